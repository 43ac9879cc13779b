import { describe, expect, it } from "vitest";
import { createReplayCache } from "../../../../agent/gateway/replay-cache.ts";

describe("replay cache", () => {
  it("accepts an id once, refuses it until it is forgotten, then forgets it", () => {
    const cache = createReplayCache(10);
    expect(cache.spend("a", 1_000, 0)).toBe("fresh");
    expect(cache.spend("a", 1_000, 999)).toBe("replayed");
    expect(cache.spend("b", 2_000, 1_000)).toBe("fresh");
    expect(cache.size).toBe(1);
  });

  it("stays within its cap: expired ids make room, and at the cap with none expired it fails closed", () => {
    const cache = createReplayCache(3);
    expect(["a", "b", "c"].map((id, index) => cache.spend(id, 100 + index, 0))).toEqual(["fresh", "fresh", "fresh"]);
    expect(cache.spend("d", 200, 50)).toBe("full");
    expect(cache.spend("a", 200, 50)).toBe("replayed");
    expect(cache.spend("d", 300, 101)).toBe("fresh");
    expect(cache.size).toBeLessThanOrEqual(3);
  });

  it("sweeps an expired id even when a later-expiring one was inserted before it", () => {
    const cache = createReplayCache(2);
    cache.spend("long", 1_000, 0);
    cache.spend("short", 10, 0);
    expect(cache.spend("next", 1_000, 20)).toBe("fresh");
    expect(cache.size).toBe(2);
  });
});
