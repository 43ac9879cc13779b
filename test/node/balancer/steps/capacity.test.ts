import { describe, expect, it } from "vitest";
import { type CapacityParams, createCapacityStep } from "../../../../src/balancer/steps/capacity.ts";
import type { ServerView } from "../../../../src/balancer/types.ts";
import { context, ids, input, server } from "../fixtures.ts";

describe("capacity", () => {
  it.each<{ name: string; params?: CapacityParams; list: ServerView[]; expected: string[] }>([
    {
      name: "drops servers at maxSessions (pending placements count)",
      list: [
        server("srv_full", { sessionCount: 4, staticData: { maxSessions: 4 } }),
        server("srv_room", { sessionCount: 3, staticData: { maxSessions: 4 } }),
      ],
      expected: ["srv_room"],
    },
    {
      name: "ignores a maxSessions that is not a positive number",
      list: [
        server("srv_zero", { sessionCount: 9, staticData: { maxSessions: 0 } }),
        server("srv_text", { sessionCount: 9, staticData: { maxSessions: "4" } }),
      ],
      expected: ["srv_zero", "srv_text"],
    },
    {
      name: "drops servers over maxLoadPerCpu",
      params: { maxLoadPerCpu: 1 },
      list: [server("srv_hot", { loadAvg: [9, 1, 1], cpuCount: 8 }), server("srv_ok", { loadAvg: [8, 9, 9], cpuCount: 8 })],
      expected: ["srv_ok"],
    },
    {
      name: "does not judge load without CPU data",
      params: { maxLoadPerCpu: 1 },
      list: [server("srv_new", { loadAvg: [9, 9, 9], cpuCount: 0 })],
      expected: ["srv_new"],
    },
    {
      name: "drops servers under minMemAvailableBytes, unless they reported no memory",
      params: { minMemAvailableBytes: 2e9 },
      list: [
        server("srv_low", { memAvailableBytes: 1e9 }),
        server("srv_ok", { memAvailableBytes: 3e9 }),
        server("srv_unknown", { memTotalBytes: 0, memAvailableBytes: 0 }),
      ],
      expected: ["srv_ok", "srv_unknown"],
    },
    { name: "no limits keeps everyone", list: [server("srv_a", { sessionCount: 500 })], expected: ["srv_a"] },
    { name: "all full leaves an empty list", list: [server("srv_a", { sessionCount: 1, staticData: { maxSessions: 1 } })], expected: [] },
  ])("$name", ({ params, list, expected }) => {
    expect(ids(createCapacityStep(params ?? {})(input(list), context()))).toEqual(expected);
  });
});
