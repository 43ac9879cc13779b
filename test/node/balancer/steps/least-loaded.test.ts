import { describe, expect, it } from "vitest";
import { createLeastLoadedStep } from "../../../../src/balancer/steps/least-loaded.ts";
import type { ServerView } from "../../../../src/balancer/types.ts";
import { chosen, context, input, server, servers } from "../fixtures.ts";

/** A server whose X2Go load factor is exactly `factor` (idle load, 1 CPU, 1000 MB, MHz × 100). */
function withFactor(serverId: string, factor: number, sessionCount: number): ServerView {
  return server(serverId, { loadAvg: [0, 0, 0], cpuCount: 1, memAvailableBytes: 1e9, cpuMhz: factor / 100, sessionCount });
}

describe("least-loaded", () => {
  it.each<{ name: string; list: ServerView[]; expected: string }>([
    {
      name: "X2Go verified case: factors 1000/900/400 with sessions 1/1/2 → ts01",
      list: [withFactor("ts01", 1000, 1), withFactor("ts02", 900, 1), withFactor("ts03", 400, 2)],
      expected: "ts01",
    },
    {
      name: "X2Go verified case: factors 1000/400 with sessions 3/0 → ts03",
      list: [withFactor("ts01", 1000, 3), withFactor("ts03", 400, 0)],
      expected: "ts03",
    },
    {
      name: "equal load: fewer sessions wins",
      list: [server("srv_a", { sessionCount: 3 }), server("srv_b", { sessionCount: 1 }), server("srv_c", { sessionCount: 2 })],
      expected: "srv_b",
    },
    {
      name: "equal sessions: the less loaded server wins",
      list: [server("srv_busy", { loadAvg: [6, 6, 6] }), server("srv_idle", { loadAvg: [0.1, 0.1, 0.1] })],
      expected: "srv_idle",
    },
    {
      name: "no server reported load: session counts decide",
      list: [server("srv_a", { cpuMhz: 0, sessionCount: 2 }), server("srv_b", { memAvailableBytes: 0, sessionCount: 1 })],
      expected: "srv_b",
    },
    {
      name: "a server without load data gets the median factor, so its empty slate wins",
      list: [server("srv_a", { sessionCount: 4 }), server("srv_b", { sessionCount: 4 }), server("srv_new", { cpuCount: 0, sessionCount: 0 })],
      expected: "srv_new",
    },
  ])("$name", ({ list, expected }) => {
    expect(chosen(createLeastLoadedStep()(input(list), context()))).toBe(expected);
  });

  it("breaks ties at random: different seeds reach different servers, never a loaded one", () => {
    const list = [...servers(4), server("srv_loaded", { sessionCount: 1 })];
    const picks = new Set<unknown>();
    for (let seed = 1; seed <= 40; seed++) picks.add(chosen(createLeastLoadedStep()(input(list), context(seed))));
    expect(picks.size).toBeGreaterThan(1);
    expect(picks.has("srv_loaded")).toBe(false);
  });

  it("is reproducible for one seed", () => {
    const list = servers(6);
    expect(chosen(createLeastLoadedStep()(input(list), context(9)))).toBe(chosen(createLeastLoadedStep()(input(list), context(9))));
  });

  it("explains the choice with its score", () => {
    const result = createLeastLoadedStep()(input([withFactor("ts01", 1000, 1)]), context());
    expect(result).toEqual({ serverId: "ts01", reason: "least-loaded chose ts01 (score 0.002, 1 sessions)" });
  });

  it("passes on an empty list", () => {
    expect(createLeastLoadedStep()(input([]), context())).toBeNull();
  });
});
