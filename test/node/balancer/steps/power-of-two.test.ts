import { describe, expect, it } from "vitest";
import { createPowerOfTwoStep } from "../../../../src/balancer/steps/power-of-two.ts";
import type { ServerView } from "../../../../src/balancer/types.ts";
import { chosen, context, input, server } from "../fixtures.ts";

function picks(list: ServerView[], seeds: number): Set<unknown> {
  const seen = new Set<unknown>();
  for (let seed = 1; seed <= seeds; seed++) seen.add(chosen(createPowerOfTwoStep()(input(list), context(seed))));
  return seen;
}

describe("power-of-two", () => {
  it.each<{ name: string; list: ServerView[]; expected: string[] }>([
    { name: "one candidate is chosen outright", list: [server("srv_only", { sessionCount: 50 })], expected: ["srv_only"] },
    {
      name: "of two servers the one with fewer sessions always wins",
      list: [server("srv_a", { sessionCount: 5 }), server("srv_b", { sessionCount: 4 })],
      expected: ["srv_b"],
    },
    {
      name: "equal sessions: the lower load per CPU wins",
      list: [server("srv_hot", { loadAvg: [8, 1, 1] }), server("srv_cool", { loadAvg: [1, 8, 8] })],
      expected: ["srv_cool"],
    },
    {
      name: "the most loaded of three never wins; the others both do",
      list: [server("srv_a", { sessionCount: 1 }), server("srv_b", { sessionCount: 2 }), server("srv_max", { sessionCount: 9 })],
      expected: ["srv_a", "srv_b"],
    },
    {
      name: "weight scales the comparison (4 sessions at weight 4 beat 2 at weight 1)",
      list: [server("srv_big", { sessionCount: 4, staticData: { weight: 4 } }), server("srv_small", { sessionCount: 2 })],
      expected: ["srv_big"],
    },
  ])("$name", ({ list, expected }) => {
    expect([...picks(list, 40)].sort()).toEqual(expected);
  });

  it("explains which two it compared", () => {
    const result = createPowerOfTwoStep()(input([server("srv_a", { sessionCount: 3 }), server("srv_b", { sessionCount: 1 })]), context());
    expect(result).toEqual({ serverId: "srv_b", reason: "power-of-two chose srv_b (1 sessions) over srv_a (3)" });
  });

  it("passes on an empty list", () => {
    expect(createPowerOfTwoStep()(input([]), context())).toBeNull();
  });
});
