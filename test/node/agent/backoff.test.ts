import { describe, expect, it } from "vitest";
import { fullJitterBackoffMs, jitteredIntervalMs, nearCapDelayMs } from "../../../agent/backoff.ts";

const randoms = [0, 0.25, 0.5, 0.999_999_9];

describe("full-jitter backoff", () => {
  it.each([0, 1, 2, 3, 5, 10, 40])("stays within [0, min(cap, base·2^attempt)] at attempt %i", (attempt) => {
    const baseMs = 1_000;
    const capMs = 30_000;
    const ceilingMs = Math.min(capMs, baseMs * 2 ** attempt);
    for (const r of randoms) {
      const delayMs = fullJitterBackoffMs(attempt, baseMs, capMs, () => r);
      expect(delayMs).toBeGreaterThanOrEqual(0);
      expect(delayMs).toBeLessThanOrEqual(ceilingMs);
    }
    expect(fullJitterBackoffMs(attempt, baseMs, capMs, () => 0)).toBe(0);
    expect(fullJitterBackoffMs(attempt, baseMs, capMs, () => 0.999_999_9)).toBe(ceilingMs);
  });

  it("never exceeds the cap, even for huge attempt counts", () => {
    expect(fullJitterBackoffMs(10_000, 10_000, 60_000, () => 0.999_999_9)).toBe(60_000);
  });

  it("uses the whole window, not just its upper half", () => {
    expect(fullJitterBackoffMs(3, 1_000, 60_000, () => 0.25)).toBe(2_000);
  });
});

describe("interval jitter", () => {
  it("stays within ±10 % of the interval", () => {
    expect(jitteredIntervalMs(10_000, () => 0)).toBe(9_000);
    expect(jitteredIntervalMs(10_000, () => 0.5)).toBe(10_000);
    expect(jitteredIntervalMs(10_000, () => 0.999_999)).toBe(11_000);
  });

  it("keeps the refused-key delay between 90 % of the cap and the cap", () => {
    expect(nearCapDelayMs(60_000, () => 0)).toBe(54_000);
    expect(nearCapDelayMs(60_000, () => 0.999_999)).toBe(60_000);
  });
});
