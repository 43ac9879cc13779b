import { describe, expect, it } from "vitest";
import { createRandomStep } from "../../../../src/balancer/steps/random.ts";
import type { ServerView } from "../../../../src/balancer/types.ts";
import { chosen, context, input, server } from "../fixtures.ts";

function shares(list: ServerView[], draws: number, seed: number): Record<string, number> {
  const ctx = context(seed);
  const counts: Record<string, number> = {};
  for (let draw = 0; draw < draws; draw++) {
    const pick = String(chosen(createRandomStep()(input(list), ctx)));
    counts[pick] = (counts[pick] ?? 0) + 1 / draws;
  }
  return counts;
}

describe("random", () => {
  it.each<{ name: string; list: ServerView[]; expected: Record<string, number> }>([
    { name: "equal weights share evenly", list: [server("srv_a"), server("srv_b")], expected: { srv_a: 0.5, srv_b: 0.5 } },
    {
      name: "weight 3 draws three times as often",
      list: [server("srv_a", { staticData: { weight: 3 } }), server("srv_b")],
      expected: { srv_a: 0.75, srv_b: 0.25 },
    },
    {
      name: "invalid weights count as 1",
      list: [server("srv_a", { staticData: { weight: -2 } }), server("srv_b", { staticData: { weight: "9" } })],
      expected: { srv_a: 0.5, srv_b: 0.5 },
    },
  ])("$name", ({ list, expected }) => {
    const observed = shares(list, 8000, 3);
    for (const [serverId, share] of Object.entries(expected)) expect(observed[serverId] ?? 0).toBeCloseTo(share, 1);
  });

  it("is reproducible for one seed", () => {
    const list = [server("srv_a"), server("srv_b"), server("srv_c")];
    expect(shares(list, 50, 11)).toEqual(shares(list, 50, 11));
  });

  it("passes on an empty list", () => {
    expect(createRandomStep()(input([]), context())).toBeNull();
  });
});
