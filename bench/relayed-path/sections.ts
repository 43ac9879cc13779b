/** The relayed-path bench's table and check, from what relayed-path.ts measured on each path. */
import { MiB, THROUGHPUT, THROUGHPUT_ROUNDS } from "../gateway/parameters.ts";
import { type BenchSection, percentile, round } from "../lib/sections.ts";
import { WORKERD_VERSION } from "../relay/parameters.ts";
import { CONNECTS, HAPROXY_WEBSOCKIFY, RELAYED, RTT_MESSAGES, SMALL_BYTES } from "./parameters.ts";

/** A path's name and the processes that carry it, in order from the client. */
export interface PathHops {
  name: string;
  hops: Array<{ name: string; pid: number }>;
}

export interface PathRun {
  mbps: number;
  /** CPU seconds per GB echoed of each hop's process tree, in hop order. */
  hopCpuSecondsPerGb: number[];
}

export interface Measured {
  paths: PathHops[];
  /** Runs per path name, in round order. */
  runs: Map<string, PathRun[]>;
  rtt: Map<string, number[]>;
  setup: Map<string, { times: number[]; errors: number }>;
  websockifyVersion: string | null;
  haproxyVersion: string | null;
  seconds: number;
}

const median = (values: number[]) => percentile(values, 50);
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

export function sections(measured: Measured): BenchSection[] {
  const runsOf = (name: string) => measured.runs.get(name) ?? [];
  const mbpsOf = (name: string) => median(runsOf(name).map((run) => run.mbps));
  const pathCpuOf = (name: string) => median(runsOf(name).map((run) => sum(run.hopCpuSecondsPerGb)));
  /** `name` ÷ `baseline` per round (the runs of a round are back to back), then the median. */
  const paired = (name: string, baseline: string, pick: (run: PathRun) => number) =>
    median(runsOf(name).map((run, index) => pick(run) / pick(runsOf(baseline)[index] as PathRun)));

  const rows = measured.paths.map((path) => {
    const runs = runsOf(path.name);
    const times = measured.rtt.get(path.name) ?? [];
    const setup = measured.setup.get(path.name) ?? { times: [], errors: 0 };
    const perHop = path.hops.map((hop, index) => `${hop.name} ${round(median(runs.map((run) => run.hopCpuSecondsPerGb[index] as number)), 2)}`).join(" + ");
    return [
      path.name,
      round(mbpsOf(path.name), 0),
      runs.map((run) => round(run.mbps, 0)).join(" / "),
      round(pathCpuOf(path.name), 2),
      perHop,
      round(percentile(times, 50), 2),
      round(percentile(times, 99), 2),
      round(percentile(setup.times, 50), 2),
      round(percentile(setup.times, 99), 2),
      setup.errors,
    ];
  });

  const errors = sum([...measured.setup.values()].map((setup) => setup.errors));
  const compared = measured.runs.has(HAPROXY_WEBSOCKIFY)
    ? `the relayed path ${round(mbpsOf(RELAYED), 0)} MB/s vs ${round(mbpsOf(HAPROXY_WEBSOCKIFY), 0)} through HAProxy → websockify: ${round(paired(RELAYED, HAPROXY_WEBSOCKIFY, (run) => run.mbps), 2)}× the MB/s (median of ${THROUGHPUT_ROUNDS} back-to-back pairs) at ${round(paired(RELAYED, HAPROXY_WEBSOCKIFY, (run) => sum(run.hopCpuSecondsPerGb)), 2)}× the CPU per GB`
    : "HAProxy → websockify not measured (npm run test:e2e:setup installs both)";
  const setupNote = `client (ws, masked 64 KiB binary frames, subprotocol binary), every hop and the TCP echo in processes of their own on one 2-core machine, loopback; broker relay = the bundled Worker in one workerd ${WORKERD_VERSION} (Miniflare API, the Worker's own socket), a fresh single-use ticket per connection (fetched before the timed part), the node enrolled with the gateway's address as its origin; agent gateway = agent/gateway (startGateway) in its own Node ${process.versions.node} process, verifying the broker's assertion with the key from enrolment, "*" → the TCP echo; ${measured.haproxyVersion ? `HAProxy ${measured.haproxyVersion} (mode http, default threads)` : "no HAProxy"}; ${measured.websockifyVersion ? `websockify ${measured.websockifyVersion} (Debian, Python 3, a forked process per connection)` : "no websockify"}; throughput = ${THROUGHPUT.totalBytes / MiB} MiB per run (≤ ${THROUGHPUT.maxMs / 1000} s) after ${THROUGHPUT.warmupBytes / MiB} MiB warm-up on the same connection, ≤ ${THROUGHPUT.windowBytes / MiB} MiB in flight, a new connection per run, ${THROUGHPUT_ROUNDS} interleaved runs each after one untimed, MB/s of echoed bytes; CPU = each hop's process tree (user+system, reaped children included) over the timed part, per GB echoed; RTT = ${RTT_MESSAGES} sequential ${SMALL_BYTES}-byte messages on one connection; connect = ${CONNECTS} sequential connections, new WebSocket to open, each closed before the next`;
  console.error(`relayed-path bench: ${round(measured.seconds, 0)} s`);
  return [
    {
      title: "The whole relayed path: broker relay → node gateway vs HAProxy → websockify",
      setup: setupNote,
      columns: ["path", "MB/s (median)", "MB/s runs", "CPU-s/GB, path (median)", "CPU-s/GB per hop (medians)", "RTT p50 ms", "RTT p99 ms", "connect p50 ms", "connect p99 ms", "connect errors"],
      rows,
      checks: [{ name: "every path echoed every byte and opened every connection", pass: errors === 0, detail: `${errors} connection errors; ${compared}` }],
    },
  ];
}
