import { describe, expect, it } from "vitest";
import { createRoundRobinStep, smoothWeightedPick } from "../../../../src/balancer/steps/round-robin.ts";
import type { ServerView } from "../../../../src/balancer/types.ts";
import { chosen, context, input, server } from "../fixtures.ts";

function sequence(list: ServerView[], from: number, count: number): unknown[] {
  return Array.from({ length: count }, (_, offset) =>
    chosen(createRoundRobinStep()(input(list, { data: { roundRobinCounter: from + offset } }), context())),
  );
}

describe("round-robin", () => {
  it.each<{ name: string; list: ServerView[]; from: number; expected: string[] }>([
    {
      name: "equal weights cycle in serverId order, whatever the input order",
      list: [server("srv_c"), server("srv_a"), server("srv_b")],
      from: 0,
      expected: ["srv_a", "srv_b", "srv_c", "srv_a", "srv_b", "srv_c"],
    },
    {
      name: "smooth weights 5/1/1 interleave (nginx): a a b a c a a",
      list: [server("srv_a", { staticData: { weight: 5 } }), server("srv_b"), server("srv_c")],
      from: 0,
      expected: ["srv_a", "srv_a", "srv_b", "srv_a", "srv_c", "srv_a", "srv_a"],
    },
    {
      name: "weights with a common divisor behave like the reduced ones",
      list: [server("srv_a", { staticData: { weight: 10 } }), server("srv_b", { staticData: { weight: 10 } })],
      from: 0,
      expected: ["srv_a", "srv_b", "srv_a", "srv_b"],
    },
    {
      name: "a large counter continues the cycle",
      list: [server("srv_a"), server("srv_b"), server("srv_c")],
      from: 3_000_000_001,
      expected: ["srv_b", "srv_c", "srv_a"],
    },
    {
      name: "a negative counter still lands in the cycle",
      list: [server("srv_a"), server("srv_b")],
      from: -1,
      expected: ["srv_b", "srv_a"],
    },
  ])("$name", ({ list, from, expected }) => {
    expect(sequence(list, from, expected.length)).toEqual(expected);
  });

  it.each([{ data: {} }, { data: { roundRobinCounter: "7" } }, { data: { roundRobinCounter: Number.NaN } }])(
    "treats a missing or malformed counter ($data) as turn 0",
    ({ data }) => {
      expect(chosen(createRoundRobinStep()(input([server("srv_b"), server("srv_a")], { data }), context()))).toBe("srv_a");
    },
  );

  it("shares turns in proportion to weight over a cycle", () => {
    const list = [server("srv_a", { staticData: { weight: 3 } }), server("srv_b", { staticData: { weight: 2 } }), server("srv_c")];
    const counts = new Map<unknown, number>();
    for (const pick of sequence(list, 0, 600)) counts.set(pick, (counts.get(pick) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ srv_a: 300, srv_b: 200, srv_c: 100 });
  });

  it("bounds the replayed cycle for many heavy servers", () => {
    const list = Array.from({ length: 200 }, (_, index) => server(`srv_${index}`, { staticData: { weight: 256 - index } }));
    const started = performance.now();
    expect(typeof chosen(createRoundRobinStep()(input(list, { data: { roundRobinCounter: 4095 } }), context()))).toBe("string");
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("smoothWeightedPick follows nginx's order", () => {
    expect([0, 1, 2, 3].map((position) => smoothWeightedPick([2, 1, 1], position))).toEqual([0, 1, 2, 0]);
  });

  it("passes on an empty list", () => {
    expect(createRoundRobinStep()(input([]), context())).toBeNull();
  });
});
