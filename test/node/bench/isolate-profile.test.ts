import { describe, expect, it } from "vitest";
import { summarise } from "../../../bench/lib/isolate-profile.ts";

const nodes = [
  { id: 1, callFrame: { functionName: "(idle)" } },
  { id: 2, callFrame: { functionName: "(garbage collector)" } },
  { id: 3, callFrame: { functionName: "acceptBeat" } },
];
const ms = (value: number) => value * 1000;

describe("summarise (a sampled profile → GC time and pauses)", () => {
  it.each([
    { name: "idle only", samples: [1, 1], deltas: [ms(1), ms(1)], gcMs: 0, longest: 0, long: 0 },
    { name: "work, no GC", samples: [3, 1, 3], deltas: [ms(2), ms(2), ms(2)], gcMs: 0, longest: 0, long: 0 },
    { name: "one long pause", samples: [3, 2, 2, 2, 1], deltas: [ms(1), ms(20), ms(20), ms(20), ms(1)], gcMs: 60, longest: 60, long: 1 },
    { name: "two short pauses split by work", samples: [2, 3, 2, 1], deltas: [ms(30), ms(1), ms(30), ms(1)], gcMs: 60, longest: 30, long: 0 },
    { name: "a pause at the end counts", samples: [1, 2, 2], deltas: [ms(1), ms(25), ms(25)], gcMs: 50, longest: 50, long: 1 },
  ])("$name", ({ samples, deltas, gcMs, longest, long }) => {
    const summary = summarise({ nodes, samples, timeDeltas: deltas });
    expect(summary).toEqual({ gcMs, longestGcPauseMs: longest, longGcPauses: long });
  });
});
