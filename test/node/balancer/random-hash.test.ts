import { describe, expect, it } from "vitest";
import { fnv1a32, hash32, unitHash } from "../../../src/balancer/hash.ts";
import { createSeededRandom, randomIndex } from "../../../src/balancer/random.ts";

describe("createSeededRandom", () => {
  it("repeats the same sequence for the same seed and differs for another", () => {
    const a = createSeededRandom(42);
    const b = createSeededRandom(42);
    const c = createSeededRandom(43);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, c)).not.toEqual(first);
  });

  it("stays in [0, 1) with a mean near 1/2", () => {
    const random = createSeededRandom(7);
    const draws = Array.from({ length: 20_000 }, random);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(draws.reduce((sum, value) => sum + value, 0) / draws.length).toBeCloseTo(0.5, 1);
  });

  it("randomIndex never reaches length, even for a generator returning 1", () => {
    expect(randomIndex(() => 0.999_999_999, 3)).toBe(2);
    expect(randomIndex(() => 1, 3)).toBe(2);
    expect(randomIndex(() => 0, 3)).toBe(0);
  });
});

describe("hashes", () => {
  it.each([
    { text: "", expected: 0x811c9dc5 },
    { text: "a", expected: 0xe40c292c },
    { text: "foobar", expected: 0xbf9cf968 },
  ])("fnv1a32($text) matches the published FNV-1a vectors for ASCII", ({ text, expected }) => {
    expect(fnv1a32(text)).toBe(expected);
  });

  it("is deterministic and spreads nearby keys", () => {
    expect(hash32("user1")).toBe(hash32("user1"));
    const buckets = new Array<number>(10).fill(0);
    for (let index = 0; index < 10_000; index++) {
      const bucket = hash32(`user${index}`) % 10;
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    for (const count of buckets) expect(count).toBeGreaterThan(850);
  });

  it("unitHash stays strictly inside (0, 1)", () => {
    for (let index = 0; index < 5_000; index++) {
      const value = unitHash(`k${index}`);
      expect(value).toBeGreaterThan(0);
      expect(value).toBeLessThan(1);
    }
  });
});
