import { describe, expect, it } from "vitest";
import { loadFactor, loadPerCpu } from "../../../src/balancer/load-factor.ts";
import { server } from "./fixtures.ts";

describe("loadFactor (X2Go check_load)", () => {
  it("reproduces the agent sample 51 / 8000 / 4 / 2400 → 150588", () => {
    // loadavgXX = 51 ⇔ (l1 + l5 + l15) × 100 / 3 + 1 = 51 ⇔ the sum is 1.5.
    const sample = server("srv_a", { loadAvg: [0.5, 0.5, 0.5], memAvailableBytes: 8_000_000_000, cpuCount: 4, cpuMhz: 2400 });
    expect(loadFactor(sample)).toBe(150588);
  });

  it.each([
    { name: "no CPU count", overrides: { cpuCount: 0 } },
    { name: "no CPU MHz", overrides: { cpuMhz: 0 } },
    { name: "no available memory", overrides: { memAvailableBytes: 0 } },
    { name: "under 1 MB available (the agent's integer MB is 0)", overrides: { memAvailableBytes: 999_999 } },
    { name: "a non-finite load", overrides: { loadAvg: [Number.NaN, 0, 0] as [number, number, number] } },
  ])("is null with $name", ({ overrides }) => {
    expect(loadFactor(server("srv_a", overrides))).toBeNull();
  });

  it("falls as load rises and grows with memory and CPUs", () => {
    const base = loadFactor(server("srv_a")) ?? 0;
    expect(loadFactor(server("srv_a", { loadAvg: [4, 4, 4] }))).toBeLessThan(base);
    expect(loadFactor(server("srv_a", { memAvailableBytes: 16e9 }))).toBeGreaterThan(base);
    expect(loadFactor(server("srv_a", { cpuCount: 16 }))).toBeGreaterThan(base);
  });

  it("never reaches 0 for a real but tiny capacity", () => {
    expect(loadFactor(server("srv_a", { memAvailableBytes: 1e6, cpuCount: 1, cpuMhz: 1, loadAvg: [99, 99, 99] }))).toBe(1);
  });

  it("loadPerCpu divides the one-minute load by the CPU count", () => {
    expect(loadPerCpu(server("srv_a", { loadAvg: [4, 1, 1], cpuCount: 8 }))).toBe(0.5);
    expect(loadPerCpu(server("srv_a", { cpuCount: 0 }))).toBeNull();
  });
});
