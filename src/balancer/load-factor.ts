/**
 * The X2Go load checker's load factor (x2go-broker-protocol.md §4; XB/agent.py `check_load`
 * l.434-483, agent `checkload`):
 *   loadavgXX   = int((load1 + load5 + load15) × 100 / 3 + 1)
 *   memAvail    = MemAvailable(kB) / 1000, an integer "MB"  (here: floor(bytes / 1e6))
 *   load_factor = int(memAvail / 1000 × numCPU × cpuMHz × 100 / loadavgXX)
 * Bigger means more spare capacity. The agent sample 51 / 8000 / 4 / 2400 gives 150588.
 */
import type { ServerView } from "./types.ts";

/** The load factor, or null when the server reported no usable data (no CPU, MHz or memory). */
export function loadFactor(server: ServerView): number | null {
  const loadAvg = server.loadAvg ?? [0, 0, 0];
  const [load1, load5, load15] = loadAvg;
  const cpuCount = server.cpuCount ?? 0;
  const cpuMhz = server.cpuMhz ?? 0;
  const memAvailMb = Math.floor((server.memAvailableBytes ?? 0) / 1_000_000);
  const usable = [load1, load5, load15, cpuCount, cpuMhz, memAvailMb].every(
    (value) => typeof value === "number" && Number.isFinite(value) && value >= 0,
  );
  if (!usable || cpuCount <= 0 || cpuMhz <= 0 || memAvailMb <= 0) return null;
  const loadAvgXX = Math.floor(((load1 + load5 + load15) * 100) / 3 + 1);
  // X2Go truncates to an integer; a tiny but real capacity must still rank as "very busy", not 0.
  return Math.max(1, Math.floor(((memAvailMb / 1000) * cpuCount * cpuMhz * 100) / loadAvgXX));
}

/** One-minute load per CPU, or null without CPU data. */
export function loadPerCpu(server: ServerView): number | null {
  const load1 = server.loadAvg?.[0];
  const cpuCount = server.cpuCount ?? 0;
  if (typeof load1 !== "number" || !Number.isFinite(load1) || cpuCount <= 0) return null;
  return load1 / cpuCount;
}
