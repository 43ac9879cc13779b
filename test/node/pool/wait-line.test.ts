/**
 * The wait line's pure rules (src/pool/wait-line.ts), table-tested: serving order and positions,
 * the wait estimate from recent placements, when the object must wake, and which failures mean
 * "wait on".
 */
import { describe, expect, it } from "vitest";
import { estimateWaitMs, keepsWaiting, nextLineWakeAt, positionsOf, SETTLED_RETENTION_MS, type WaitEntry, waitingInOrder } from "../../../src/pool/wait-line.ts";

const HOUR_MS = 60 * 60_000;

function entry(id: string, seq: number, change: Partial<WaitEntry> = {}): WaitEntry {
  return {
    id,
    seq,
    user: `user-${id}`,
    profileId: "desk",
    createdAt: 1_000,
    expiresAt: 601_000,
    deadlineAt: 601_000,
    start: { select: {} as WaitEntry["start"]["select"], launch: null },
    status: "waiting",
    placed: null,
    failed: null,
    settledAt: null,
    ...change,
  };
}

describe("order and positions", () => {
  it("serves waiting entries by arrival, skipping settled ones", () => {
    const entries = [entry("c", 3), entry("a", 1, { status: "placed", settledAt: 5 }), entry("b", 2), entry("d", 4, { status: "failed", settledAt: 6 })];
    expect(waitingInOrder(entries).map((each) => each.id)).toEqual(["b", "c"]);
    expect([...positionsOf(entries)]).toEqual([["b", 1], ["c", 2]]);
  });
});

describe("estimateWaitMs", () => {
  const nowMs = 10 * HOUR_MS;
  it.each([
    { what: "no placements", placedAt: [], position: 1, expected: undefined },
    { what: "fewer than the minimum", placedAt: [nowMs - 2_000, nowMs - 1_000], position: 1, expected: undefined },
    { what: "a mean gap of 1 s, at the head", placedAt: [nowMs - 3_000, nowMs - 2_000, nowMs - 1_000], position: 1, expected: 1_000 },
    { what: "a mean gap of 1 s, third in line", placedAt: [nowMs - 3_000, nowMs - 2_000, nowMs - 1_000], position: 3, expected: 3_000 },
    { what: "unordered times", placedAt: [nowMs - 1_000, nowMs - 9_000, nowMs - 5_000], position: 2, expected: 8_000 },
    { what: "placements older than an hour left out", placedAt: [nowMs - 2 * HOUR_MS, nowMs - 3_000, nowMs - 1_000], position: 1, expected: undefined },
  ])("$what → $expected", ({ placedAt, position, expected }) => {
    expect(estimateWaitMs(position, placedAt, nowMs)).toBe(expected);
  });
});

describe("nextLineWakeAt", () => {
  it.each([
    { what: "an empty line", entries: [], expected: null },
    { what: "the earliest expiry", entries: [entry("a", 1, { expiresAt: 9_000 }), entry("b", 2, { expiresAt: 7_000 })], expected: 7_000 },
    { what: "a settled entry's purge", entries: [entry("a", 1, { expiresAt: 900_000 }), entry("b", 2, { status: "placed", settledAt: 2_000 })], expected: 2_000 + SETTLED_RETENTION_MS },
  ])("$what → $expected", ({ entries, expected }) => {
    expect(nextLineWakeAt(entries)).toBe(expected);
  });
});

describe("keepsWaiting", () => {
  it.each([
    ["NO_SERVER_AVAILABLE", true],
    ["FORBIDDEN", false],
    ["SESSION_LIMIT", false],
  ])("%s → %s", (code, expected) => {
    expect(keepsWaiting(code)).toBe(expected);
  });
});
