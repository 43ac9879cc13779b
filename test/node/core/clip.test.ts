import { describe, expect, it } from "vitest";
import { clipMessage, MAX_MESSAGE_BYTES } from "../../../src/core/clip.ts";

const bytes = (text: string) => new TextEncoder().encode(text).byteLength;
/** What the clip may add after the kept prefix: the ellipsis and the count of what was cut. */
const SUFFIX_BYTES = 64;

describe("clipMessage", () => {
  it("returns text that fits unchanged, up to exactly the limit", () => {
    expect(clipMessage("no GPU server is free")).toBe("no GPU server is free");
    const exact = "x".repeat(MAX_MESSAGE_BYTES);
    expect(clipMessage(exact)).toBe(exact);
    expect(clipMessage("")).toBe("");
  });

  it("clips a 3 MB string to about 1 KiB and says how much was cut", () => {
    const clipped = clipMessage("x".repeat(3_000_000));
    expect(bytes(clipped)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES + SUFFIX_BYTES);
    expect(clipped.startsWith("x".repeat(MAX_MESSAGE_BYTES))).toBe(true);
    expect(clipped).toMatch(/…/);
    expect(clipped).toContain(String(3_000_000 - MAX_MESSAGE_BYTES));
  });

  it("counts UTF-8 bytes, not characters, and never splits a character", () => {
    const wide = "é€😀".repeat(200_000);
    const clipped = clipMessage(wide);
    expect(bytes(clipped)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES + SUFFIX_BYTES);
    const kept = clipped.slice(0, clipped.indexOf("…"));
    expect(bytes(kept)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(bytes(kept)).toBeGreaterThan(MAX_MESSAGE_BYTES - 4);
    expect(kept).not.toContain("\uFFFD");
    expect(wide.startsWith(kept)).toBe(true);
    expect(/[\uD800-\uDBFF]$/.test(kept)).toBe(false);
  });

  it("takes a smaller limit for previews", () => {
    const clipped = clipMessage("y".repeat(500), 80);
    expect(clipped.startsWith("y".repeat(80))).toBe(true);
    expect(bytes(clipped)).toBeLessThanOrEqual(80 + SUFFIX_BYTES);
  });
});
