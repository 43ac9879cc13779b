/** The SSH bench's tables and checks. */
import { type BenchCheck, type BenchSection, percentile, round } from "../lib/sections.ts";
import { CIPHER, EDGE, HAPROXY, MiB, RTT_ADDED_P50_LIMIT_MS, RTT_TRIPS, RTT_WARMUP, THROUGHPUT_RATIO_TARGET, THROUGHPUT_ROUNDS, TRANSFER_BYTES, WARMUP_BYTES } from "./parameters.ts";
import type { TransferRun } from "./measure.ts";

export interface SshMeasured {
  /** Per path, in round order. */
  download: Record<string, TransferRun[]>;
  upload: Record<string, TransferRun[]>;
  rtt: Record<string, number[]>;
  sshVersion: string;
  haproxyVersion: string | null;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const cpu = (value: number) => (Number.isNaN(value) ? "–" : round(value, 2));

export function sshSections(measured: SshMeasured): BenchSection[] {
  const paths = Object.keys(measured.download);
  const setup =
    `${measured.sshVersion} client and sshd (our own, loopback), cipher ${CIPHER}, key login; edge path = edge-desktop forward (Node ${process.versions.node}) → the broker's tunnel in one workerd (Miniflare, the Worker's own socket) → the agent's node gateway → sshd, a fresh service ticket per connection; ` +
    `${measured.haproxyVersion ? `HAProxy ${measured.haproxyVersion} in mode tcp` : "HAProxy not installed"}; everything on one 2-core machine`;
  const rows = (runs: Record<string, TransferRun[]>) =>
    paths.map((path) => {
      const list = runs[path] ?? [];
      return [path, round(median(list.map((run) => run.mbps)), 0), list.map((run) => round(run.mbps, 0)).join(" / "), cpu(median(list.map((run) => run.cpuSecondsPerGb)))];
    });
  const mbps = (runs: Record<string, TransferRun[]>, path: string) => median((runs[path] ?? []).map((run) => run.mbps));
  const ratioCheck = (what: string, runs: Record<string, TransferRun[]>): BenchCheck =>
    measured.haproxyVersion
      ? { name: `${what}: edge path ≥ ${THROUGHPUT_RATIO_TARGET} × HAProxy's`, pass: mbps(runs, EDGE) >= THROUGHPUT_RATIO_TARGET * mbps(runs, HAPROXY), detail: `${round(mbps(runs, EDGE) / mbps(runs, HAPROXY), 2)}× (${round(mbps(runs, EDGE), 0)} vs ${round(mbps(runs, HAPROXY), 0)} MB/s, medians)` }
      : { name: `${what}: edge path ≥ ${THROUGHPUT_RATIO_TARGET} × HAProxy's`, pass: false, detail: "not measured: HAProxy is not installed (npm run test:e2e:setup)" };
  const transfer = (title: string, how: string, runs: Record<string, TransferRun[]>, what: string): BenchSection => ({
    title,
    setup: `${setup}; ${TRANSFER_BYTES / MiB} MiB per run over one SSH connection, ${how}; ${THROUGHPUT_ROUNDS} rounds interleaved across the paths, each path warmed by ${WARMUP_BYTES / MiB} MiB first; CPU = the path's processes between client and sshd (edge: helper + workerd + agent; HAProxy: haproxy), user+system per GB`,
    columns: ["path", "MB/s (median)", "MB/s runs", "path CPU-s/GB (median)"],
    rows: rows(runs),
    checks: [ratioCheck(what, runs)],
  });
  const rttRows = paths.map((path) => {
    const times = measured.rtt[path] ?? [];
    return [path, round(percentile(times, 50), 3), round(percentile(times, 90), 3), round(percentile(times, 99), 3), round(Math.max(...times), 3)];
  });
  const p50 = (path: string) => percentile(measured.rtt[path] ?? [], 50);
  const added = p50(EDGE) - (measured.haproxyVersion ? p50(HAPROXY) : Number.NaN);
  return [
    transfer("SSH through the edge: download (node → client)", "`head -c` on the node, bytes counted by the client from the first to the last", measured.download, "download"),
    transfer("SSH through the edge: upload (client → node)", "written by the client, timed by `dd` on the node", measured.upload, "upload"),
    {
      title: "SSH through the edge: interactive round trip",
      setup: `${setup}; ssh -tt to \`cat\` on a raw pty, one byte written and its echo read, ${RTT_TRIPS} round trips after ${RTT_WARMUP} untimed, one connection per path`,
      columns: ["path", "p50 ms", "p90 ms", "p99 ms", "max ms"],
      rows: rttRows,
      checks: [
        {
          name: `interactive: edge path adds ≤ ${RTT_ADDED_P50_LIMIT_MS} ms to HAProxy's p50`,
          pass: added <= RTT_ADDED_P50_LIMIT_MS,
          detail: Number.isNaN(added) ? "not measured: HAProxy is not installed" : `+${round(added, 3)} ms (${round(p50(EDGE), 3)} vs ${round(p50(HAPROXY), 3)} ms)`,
        },
      ],
    },
  ];
}
