/** The live state a simulated bench node reports: 8 CPUs, 32 GB, five sessions (~1 KiB as JSON). */
import type { HeartbeatBody } from "../src/protocol.ts";

export function benchHeartbeatBody(index: number): HeartbeatBody {
  return {
    loadAvg: [0.4 + (index % 7) / 10, 0.5, 0.6],
    cpuCount: 8,
    cpuMhz: 2400,
    memTotalBytes: 32_000_000_000,
    memAvailableBytes: 20_000_000_000 - index * 1_000_000,
    sessions: Array.from({ length: 5 }, (_, i) => ({ id: `s-${index}-${i}`, user: `user${(index * 5 + i) % 1000}`, state: i % 3 === 0 ? "suspended" : "running", startedAt: 1_700_000_000_000 + i })),
    users: Array.from({ length: 5 }, (_, i) => `user${(index * 5 + i) % 1000}`),
    staticData: { site: "bench", maxSessions: 40 },
    metrics: { collectMs: 3 },
  };
}
