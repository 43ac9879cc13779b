/** The relay bench's tables and checks, from what relay.ts measured on each path. */
import { type BenchCheck, type BenchSection, percentile, round } from "../lib/sections.ts";
import type { concurrentConnections, ticketedConnects } from "./client.ts";
import { type Haproxy, HAPROXY_PATH } from "./endpoints.ts";
import { MiB, THROUGHPUT, THROUGHPUT_ROUNDS, RTT_MESSAGES, SMALL_BYTES, CONCURRENT, CONCURRENT_TRIPS, STALL_MS, STALL_MAX_BYTES, THROUGHPUT_RATIO_TARGET, RSS_GROWTH_LIMIT, PUSHED_LIMIT, RELAY, ENTRY_RELAY, HAPROXY, REFERENCE_RELAY, WORKERD_VERSION, BARE, BARE_RATIO_TARGET } from "./parameters.ts";
import { REFERENCE_WORKERD_VERSION } from "./reference-workerd.ts";
import type { StallResult } from "./stalled-reader.ts";

export interface Path {
  name: string;
  /** The process relaying (null: direct); its memory and CPU time are reported. */
  pid: number | null;
  /** Each connection needs a ticket from `POST /v1/sessions` (fetched before the timed part). */
  ticketed: boolean;
  urls(count: number): Promise<string[]>;
}

export interface SetupRow {
  times: number[];
  errors: number;
  /** The relaying process's CPU time per connection opened and closed (NaN: direct). */
  cpuMsPerConnection: number;
}

export interface ThroughputRow {
  runs: number[];
  cpuPerGb: number[];
}

const mib = (bytes: number) => round(bytes / MiB, 1);
const ms = (value: number) => round(value, 2);
const median = (values: number[]) => percentile(values, 50);

export interface Results {
  paths: Path[];
  haproxy: Haproxy | null;
  throughputRows: Map<string, ThroughputRow>;
  rtt: Map<string, number[]>;
  setup: Map<string, SetupRow>;
  concurrent: Map<string, Awaited<ReturnType<typeof concurrentConnections>>>;
  ticketed: Awaited<ReturnType<typeof ticketedConnects>>;
  stalls: Map<string, StallResult>;
  longLived: { ok: boolean; ageS: number; error: string };
  seconds: number;
}

/** The four relay tables (data path, connection set-up, concurrency, stalled reader) with their checks. */
export function sections(results: Results): BenchSection[] {
  const { paths, haproxy } = results;
  const hasReference = paths.some((path) => path.name === REFERENCE_RELAY);
  const setupNote = `client, ws echo server (node endpoint, own process) and relays on one 2-core machine, loopback; broker relay = the bundled Worker in one workerd ${WORKERD_VERSION} (Miniflare API) on a socket of its own, "Miniflare entry" = the same workerd through Miniflare's default socket (its entry worker in front), bare pass-through Worker = \`fetch(origin, request)\` alone on the same workerd binary, compatibility date and flags (a Miniflare instance and socket of its own, no ticket), ${hasReference ? `"KJ I/O" = the same Worker on workerd ${REFERENCE_WORKERD_VERSION}, the last npm build before the Rust/Tokio network backend (npm run bench:reference-workerd; compatibility date capped at its newest), ` : ""}one ticket per connection; ${haproxy ? `HAProxy ${haproxy.version} (mode http, default threads)` : `HAProxy not installed (${HAPROXY_PATH}; bash scripts/e2e-setup.sh)`}`;
  const relayName = RELAY;
  const runsOf = (name: string) => results.throughputRows.get(name)?.runs ?? [];
  /** `name` ÷ `baseline` per round (the runs of a round are back to back), then the median. */
  const pairedRatio = (name: string, baseline = HAPROXY) => median(runsOf(name).map((value, index) => value / (runsOf(baseline)[index] as number)));
  const ratio = pairedRatio(relayName);
  const entryRatio = pairedRatio(ENTRY_RELAY);
  const bareRatio = pairedRatio(relayName, BARE);
  const throughputChecks: BenchCheck[] = [
    haproxy
      ? {
          name: `relay throughput ≥ ${THROUGHPUT_RATIO_TARGET} × HAProxy's`,
          pass: ratio >= THROUGHPUT_RATIO_TARGET,
          detail: `${round(ratio, 2)}× (median of ${THROUGHPUT_ROUNDS} paired rounds; medians ${round(median(runsOf(relayName)), 0)} vs ${round(median(runsOf(HAPROXY)), 0)} MB/s); behind Miniflare's entry worker ${round(entryRatio, 2)}×`,
        }
      : { name: `relay throughput ≥ ${THROUGHPUT_RATIO_TARGET} × HAProxy's`, pass: true, detail: "not checked: HAProxy is not installed (bash scripts/e2e-setup.sh installs it)" },
    {
      name: `broker relay ≥ ${BARE_RATIO_TARGET} × the bare pass-through Worker's throughput`,
      pass: bareRatio >= BARE_RATIO_TARGET,
      detail: `${round(bareRatio, 2)}× (median of ${THROUGHPUT_ROUNDS} paired rounds; medians ${round(median(runsOf(relayName)), 0)} vs ${round(median(runsOf(BARE)), 0)} MB/s): the broker's own overhead over the runtime's pass-through${haproxy ? `; the bare Worker is ${round(pairedRatio(BARE), 2)}× HAProxy's, the runtime's own gap` : ""}`,
    },
    ...(haproxy && hasReference
      ? [
          {
            name: `the same relay on workerd ${REFERENCE_WORKERD_VERSION} (KJ I/O) ≥ ${THROUGHPUT_RATIO_TARGET} × HAProxy's`,
            pass: pairedRatio(REFERENCE_RELAY) >= THROUGHPUT_RATIO_TARGET,
            detail: `${round(pairedRatio(REFERENCE_RELAY), 2)}× (median ${round(median(runsOf(REFERENCE_RELAY)), 0)} MB/s): the gap above is the runtime's network backend, not the Worker`,
          },
        ]
      : []),
    {
      name: "a relayed connection outlives the origin-connect timeout",
      pass: results.longLived.ok,
      detail: `opened before the first phase, round trips after ${round(results.longLived.ageS, 0)} s: ${results.longLived.ok ? "answered" : results.longLived.error}`,
    },
  ];
  const dataPath: BenchSection = {
    title: "Relay data path",
    setup: `${setupNote}; throughput = 64 KiB binary frames echoed, ${THROUGHPUT.totalBytes / MiB} MiB per run (≤ ${THROUGHPUT.maxMs / 1000} s) after ${THROUGHPUT.warmupBytes / MiB} MiB warm-up, ≤ ${THROUGHPUT.windowBytes / MiB} MiB in flight, MB/s of echoed bytes, ${THROUGHPUT_ROUNDS} interleaved rounds, each in a rotated path order; RTT = ${RTT_MESSAGES} sequential ${SMALL_BYTES}-byte messages on one connection`,
    columns: ["path", "MB/s (median)", "MB/s runs", "relay CPU-s/GB", "RTT p50 ms", "RTT p99 ms"],
    rows: paths.map((path) => {
      const row = results.throughputRows.get(path.name) as ThroughputRow;
      const times = results.rtt.get(path.name) ?? [];
      return [
        path.name,
        round(median(row.runs), 0),
        row.runs.map((value) => round(value, 0)).join(" / "),
        path.pid === null ? "–" : round(median(row.cpuPerGb), 2),
        ms(percentile(times, 50)),
        ms(percentile(times, 99)),
      ];
    }),
    checks: throughputChecks,
  };

  const setupRows: Array<Array<string | number>> = paths.map((path) => {
    const result = results.setup.get(path.name) as SetupRow;
    const cpu = Number.isNaN(result.cpuMsPerConnection) ? "–" : round(result.cpuMsPerConnection, 2);
    return [path.name, path.ticketed ? "connect (ticket fetched before)" : "connect", result.times.length, ms(percentile(result.times, 50)), ms(percentile(result.times, 99)), cpu, result.errors];
  });
  const { ticketed } = results;
  setupRows.push([relayName, "POST /v1/sessions (ticket) alone", ticketed.ticket.length, ms(percentile(ticketed.ticket, 50)), ms(percentile(ticketed.ticket, 99)), "–", ticketed.errors]);
  setupRows.push([relayName, "ticket + connect", ticketed.total.length, ms(percentile(ticketed.total, 50)), ms(percentile(ticketed.total, 99)), "–", ticketed.errors]);
  const setupErrors = [...results.setup.values()].reduce((sum, result) => sum + result.errors, 0) + ticketed.errors;
  const connections: BenchSection = {
    title: "Relay connection set-up",
    setup: `${setupNote}; one connection after another, time from new WebSocket to open (TCP + HTTP upgrade, through the relay to the node), each closed before the next; relay CPU = the relaying process's user+system time per connection opened and closed`,
    columns: ["path", "measured", "connections", "p50 ms", "p99 ms", "relay CPU ms/conn", "errors"],
    rows: setupRows,
    checks: [{ name: "every sequential connection opened", pass: setupErrors === 0, detail: `${setupErrors} errors` }],
  };

  const concurrentErrors = paths.map((path) => `${path.name} ${results.concurrent.get(path.name)?.errors ?? "?"}`).join(", ");
  const totalConcurrentErrors = [...results.concurrent.values()].reduce((sum, result) => sum + result.errors, 0);
  const firstConcurrentError = [...results.concurrent.values()].find((result) => result.firstError)?.firstError;
  const concurrency: BenchSection = {
    title: `Relay: ${CONCURRENT} concurrent connections`,
    setup: `${setupNote}; ${CONCURRENT} connections opened at once (relay tickets fetched before), each does ${CONCURRENT_TRIPS} sequential ${SMALL_BYTES}-byte round trips, then closes; time = first open to last close`,
    columns: ["path", "connections", "total s", "connect p50 ms", "connect p99 ms", "RTT p50 ms", "RTT p99 ms", "errors"],
    rows: paths.map((path) => {
      const result = results.concurrent.get(path.name) as Awaited<ReturnType<typeof concurrentConnections>>;
      return [path.name, result.connections, round(result.seconds, 2), ms(percentile(result.connect, 50)), ms(percentile(result.connect, 99)), ms(percentile(result.rtt, 50)), ms(percentile(result.rtt, 99)), result.errors];
    }),
    checks: [
      {
        name: `zero errors with ${CONCURRENT} concurrent connections`,
        pass: totalConcurrentErrors === 0,
        detail: `${concurrentErrors}${firstConcurrentError ? ` (first: ${firstConcurrentError})` : ""}`,
      },
    ],
  };

  const relayStall = results.stalls.get(relayName) as StallResult;
  const relayGrowth = relayStall.rssPeak - relayStall.rssBefore;
  const stallChecks: BenchCheck[] = [
    {
      name: `relay RSS growth < ${RSS_GROWTH_LIMIT / MiB} MiB while the reader stalls`,
      pass: relayGrowth < RSS_GROWTH_LIMIT,
      detail: `workerd RSS ${mib(relayStall.rssBefore)} → peak ${mib(relayStall.rssPeak)} MiB (+${mib(relayGrowth)}), ${mib(relayStall.rssAfter)} MiB 1 s after close`,
    },
    {
      name: "the relay holds the sender back",
      pass: relayStall.pushedBytes < PUSHED_LIMIT,
      detail: `the node pushed ${mib(relayStall.pushedBytes)} MiB in ${round(relayStall.stallMs / 1000, 1)} s (${mib(relayStall.pushedSecondHalfBytes)} MiB in the second half) of up to ${STALL_MAX_BYTES / MiB} MiB`,
    },
    {
      name: "nothing lost once the reader resumes (drained ≥ pushed)",
      pass: [...results.stalls.values()].every((stall) => stall.drainedBytes >= stall.pushedBytes),
      detail: paths.map((path) => `${path.name} ${mib(results.stalls.get(path.name)?.drainedBytes ?? 0)} of ${mib(results.stalls.get(path.name)?.pushedBytes ?? 0)} MiB`).join(", "),
    },
  ];
  const stalled: BenchSection = {
    title: "Relay: stalled reader",
    setup: `${setupNote}; the client stops reading (socket paused) and the node pushes 64 KiB frames for ${STALL_MS / 1000} s (at most ${STALL_MAX_BYTES / MiB} MiB); pushed = bytes the node's socket accepted; RSS of the relaying process (workerd, haproxy) before, peak (sampled every 50 ms) and 1 s after close; then the client drains and closes`,
    columns: ["path", "pushed MiB", "pushed in 2nd half MiB", "drained MiB", "RSS before MiB", "RSS peak MiB", "RSS after MiB"],
    rows: paths.map((path) => {
      const stall = results.stalls.get(path.name) as StallResult;
      const rss = (value: number) => (Number.isNaN(value) ? "–" : mib(value));
      return [path.name, mib(stall.pushedBytes), mib(stall.pushedSecondHalfBytes), mib(stall.drainedBytes), rss(stall.rssBefore), rss(stall.rssPeak), rss(stall.rssAfter)];
    }),
    checks: stallChecks,
  };
  console.error(`relay bench: ${round(results.seconds, 0)} s`);
  return [dataPath, connections, concurrency, stalled];
}
