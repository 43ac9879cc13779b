/** The gateway bench's two tables (throughput against websockify, stalled reader) and their checks. */
import { type BenchCheck, type BenchSection, round } from "../lib/sections.ts";
import type { StallResult } from "./client.ts";
import { GATEWAY, MiB, PUSHED_LIMIT, RSS_GROWTH_LIMIT, STALL, THROUGHPUT, THROUGHPUT_RATIO_TARGET, THROUGHPUT_ROUNDS, WEBSOCKIFY } from "./parameters.ts";

export interface ThroughputRun {
  mbps: number;
  cpuSecondsPerGb: number;
  bytes: number;
}

export interface Measured {
  /** Runs per server name, in round order. */
  throughput: Record<string, ThroughputRun[]>;
  stalls: Record<string, StallResult & { rssBefore: number; rssPeak: number; rssAfter: number }>;
  websockifyVersion: string | null;
  seconds: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const mib = (bytes: number) => round(bytes / MiB, 1);

export function sections(measured: Measured): BenchSection[] {
  const names = Object.keys(measured.throughput);
  const runs = (name: string) => measured.throughput[name] ?? [];
  const medianOf = (name: string, pick: (run: ThroughputRun) => number) => median(runs(name).map(pick));
  const setup = `client (ws, masked 64 KiB binary frames, subprotocol binary), server under test and the TCP echo/flood endpoints in three processes on one 2-core machine, loopback; agent gateway = agent/gateway in its own Node ${process.versions.node} process, a fresh broker assertion per connection; ${measured.websockifyVersion ? `websockify ${measured.websockifyVersion} (Debian, /usr/bin/websockify, Python 3, one forked process per connection)` : "websockify not installed (npm run test:e2e:setup)"}`;

  const hasWebsockify = names.includes(WEBSOCKIFY);
  /** Gateway ÷ websockify per round (the two runs of a round are back to back), then the median. */
  const ratio = hasWebsockify ? median(runs(GATEWAY).map((run, index) => run.mbps / (runs(WEBSOCKIFY)[index] as ThroughputRun).mbps)) : Number.NaN;
  const gatewayCpu = medianOf(GATEWAY, (run) => run.cpuSecondsPerGb);
  const websockifyCpu = hasWebsockify ? medianOf(WEBSOCKIFY, (run) => run.cpuSecondsPerGb) : Number.NaN;
  const throughputChecks: BenchCheck[] = hasWebsockify
    ? [
        {
          name: `gateway throughput ≥ ${THROUGHPUT_RATIO_TARGET} × websockify's`,
          pass: ratio >= THROUGHPUT_RATIO_TARGET,
          detail: `${round(ratio, 2)}× (median of ${THROUGHPUT_ROUNDS} back-to-back pairs; medians ${round(medianOf(GATEWAY, (run) => run.mbps), 0)} vs ${round(medianOf(WEBSOCKIFY, (run) => run.mbps), 0)} MB/s)`,
        },
        {
          name: "gateway CPU per GB ≤ websockify's",
          pass: gatewayCpu <= websockifyCpu,
          detail: `${round(gatewayCpu, 2)} vs ${round(websockifyCpu, 2)} CPU-s/GB (medians)`,
        },
      ]
    : [{ name: `gateway throughput ≥ ${THROUGHPUT_RATIO_TARGET} × websockify's`, pass: false, detail: "not measured: /usr/bin/websockify is missing (npm run test:e2e:setup installs it)" }];
  const throughput: BenchSection = {
    title: "Node gateway: WebSocket→TCP throughput",
    setup: `${setup}; 64 KiB frames echoed by a TCP server, ${THROUGHPUT.totalBytes / MiB} MiB per run (≤ ${THROUGHPUT.maxMs / 1000} s) after ${THROUGHPUT.warmupBytes / MiB} MiB warm-up on the same connection, ≤ ${THROUGHPUT.windowBytes / MiB} MiB in flight, a new connection per run, ${THROUGHPUT_ROUNDS} interleaved runs each after one untimed; MB/s of echoed bytes; CPU = the server's process tree (user+system, /proc/<pid>/stat, reaped children included) over the timed part, per GB echoed`,
    columns: ["server", "MB/s (median)", "MB/s runs", "CPU-s/GB (median)", "CPU-s/GB runs"],
    rows: names.map((name) => [
      name,
      round(medianOf(name, (run) => run.mbps), 0),
      runs(name).map((run) => round(run.mbps, 0)).join(" / "),
      round(medianOf(name, (run) => run.cpuSecondsPerGb), 2),
      runs(name).map((run) => round(run.cpuSecondsPerGb, 2)).join(" / "),
    ]),
    checks: throughputChecks,
  };

  const gatewayStall = measured.stalls[GATEWAY];
  const growth = gatewayStall ? gatewayStall.rssPeak - gatewayStall.rssBefore : Number.NaN;
  const stalled: BenchSection = {
    title: "Node gateway: stalled reader",
    setup: `${setup}; the client reads nothing (paused from the upgrade on) while a TCP endpoint pushes 64 KiB chunks at it for ${STALL.maxMs / 1000} s (at most ${STALL.maxBytes / MiB} MiB); pushed = bytes the endpoint's socket accepted; run after one untimed echo connection and before the timed ones; RSS of the server's process tree before the connection, peak (every 50 ms) and after close; then the client drains and closes`,
    columns: ["server", "pushed MiB", "pushed in 2nd half MiB", "drained MiB", "RSS before MiB", "RSS peak MiB", "RSS after MiB"],
    rows: Object.entries(measured.stalls).map(([name, stall]) => [name, mib(stall.flood.acceptedBytes), mib(stall.flood.acceptedBytes - stall.flood.acceptedAtHalfBytes), mib(stall.drainedBytes), mib(stall.rssBefore), mib(stall.rssPeak), mib(stall.rssAfter)]),
    checks: gatewayStall
      ? [
          {
            name: `gateway RSS growth < ${RSS_GROWTH_LIMIT / MiB} MiB while the reader stalls`,
            pass: growth < RSS_GROWTH_LIMIT,
            detail: `RSS ${mib(gatewayStall.rssBefore)} → peak ${mib(gatewayStall.rssPeak)} MiB (+${mib(growth)}), ${mib(gatewayStall.rssAfter)} MiB after close`,
          },
          {
            name: "the gateway holds the endpoint back",
            pass: gatewayStall.flood.acceptedBytes < PUSHED_LIMIT,
            detail: `the endpoint pushed ${mib(gatewayStall.flood.acceptedBytes)} MiB in ${round(gatewayStall.flood.ms / 1000, 1)} s (${mib(gatewayStall.flood.acceptedBytes - gatewayStall.flood.acceptedAtHalfBytes)} MiB in the second half) of up to ${STALL.maxBytes / MiB} MiB`,
          },
          {
            name: "gateway: nothing lost once the reader resumes (drained ≥ pushed)",
            pass: gatewayStall.drainedBytes >= gatewayStall.flood.acceptedBytes,
            detail: Object.entries(measured.stalls).map(([name, stall]) => `${name} ${mib(stall.drainedBytes)} of ${mib(stall.flood.acceptedBytes)} MiB`).join(", "),
          },
        ]
      : [],
  };
  console.error(`gateway bench: ${round(measured.seconds, 0)} s`);
  return [throughput, stalled];
}
