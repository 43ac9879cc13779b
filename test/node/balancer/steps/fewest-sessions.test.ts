import { describe, expect, it } from "vitest";
import { createFewestSessionsStep } from "../../../../src/balancer/steps/fewest-sessions.ts";
import type { ServerView } from "../../../../src/balancer/types.ts";
import { chosen, context, input, server, servers } from "../fixtures.ts";

describe("fewest-sessions", () => {
  it.each<{ name: string; list: ServerView[]; expected: string }>([
    {
      name: "fewest sessions wins, whatever the load",
      list: [server("srv_a", { sessionCount: 2, loadAvg: [0, 0, 0] }), server("srv_b", { sessionCount: 1, loadAvg: [9, 9, 9] })],
      expected: "srv_b",
    },
    {
      name: "weight scales capacity: 5 sessions at weight 3 beat 2 at weight 1",
      list: [server("srv_big", { sessionCount: 5, staticData: { weight: 3 } }), server("srv_small", { sessionCount: 2 })],
      expected: "srv_big",
    },
    { name: "a single server is chosen", list: [server("srv_only", { sessionCount: 99 })], expected: "srv_only" },
  ])("$name", ({ list, expected }) => {
    expect(chosen(createFewestSessionsStep()(input(list), context()))).toBe(expected);
  });

  it("breaks ties at random", () => {
    const picks = new Set<unknown>();
    for (let seed = 1; seed <= 30; seed++) picks.add(chosen(createFewestSessionsStep()(input(servers(3)), context(seed))));
    expect(picks.size).toBe(3);
  });

  it("passes on an empty list", () => {
    expect(createFewestSessionsStep()(input([]), context())).toBeNull();
  });
});
