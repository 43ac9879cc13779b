/**
 * The relay (design decision 1): WebSocket throughput, small-message round trips, connection
 * set-up, 200 concurrent connections and a stalled reader, each measured in the same run
 * directly against the node endpoint, through the broker's relay (the Worker in one workerd via
 * Miniflare's API, bench/relay-broker.ts) and through HAProxy where the Debian package is
 * installed. The relay is measured on a socket of the Worker's own (as on Cloudflare, nothing
 * in front of it; the throughput target is checked there) and, for comparison, through
 * Miniflare's default socket, where Miniflare's entry worker sits in front. The node endpoint is a `ws` echo server in its own process, enrolled as the only
 * node of the default pool and kept `up` by signed heartbeats. Every relay connection uses a
 * fresh single-use ticket from `POST /v1/sessions`, fetched before the timed part unless the
 * row says "ticket + connect". Loopback only; every phase is bounded in bytes, count and time.
 */
import { createRequire } from "node:module";
import { type BenchCheck, type BenchSection, percentile, round } from "./lib.ts";
import { type Broker, prepareBroker } from "./relay-broker.ts";
import {
  closeSocket,
  concurrentConnections,
  openSocket,
  roundTrips,
  sequentialConnects,
  type StallResult,
  stalledReader,
  throughput,
  ticketedConnects,
} from "./relay-client.ts";
import { type Haproxy, HAPROXY_PATH, startEchoServer, startHaproxy } from "./relay-endpoints.ts";
import { cpuSeconds } from "./proc.ts";
import { REFERENCE_WORKERD_VERSION, referenceWorkerdPath } from "./reference-workerd.ts";

const MiB = 1024 * 1024;
const THROUGHPUT = { warmupBytes: 16 * MiB, totalBytes: 256 * MiB, maxMs: 10_000, windowBytes: 4 * MiB };
/** Throughput runs per path, interleaved across paths so a busy moment on the machine hits all. */
const THROUGHPUT_ROUNDS = 5;
const RTT_MESSAGES = 2_000;
const RTT_WARMUP = 100;
const SMALL_BYTES = 32;
const SEQUENTIAL_CONNECTS = 200;
const TICKETED_CONNECTS = 100;
const CONCURRENT = 200;
const CONCURRENT_TRIPS = 5;
const STALL_MS = 4_000;
const STALL_MAX_BYTES = 256 * MiB;
/** Targets (the issue): relay ≥ 0.9 × HAProxy; relay RSS growth while the reader stalls. */
const THROUGHPUT_RATIO_TARGET = 0.9;
const RSS_GROWTH_LIMIT = 64 * MiB;
/** A stalled reader must hold the sender back: well under what it would push unchecked. */
const PUSHED_LIMIT = 64 * MiB;
const TICKET_CONCURRENCY = 4;
/** The Worker on its own socket (as on Cloudflare: nothing of Miniflare's in front). */
const RELAY = "broker relay";
/** The same Worker behind Miniflare's entry worker (Miniflare's default socket, a dev-only hop). */
const ENTRY_RELAY = "broker relay, Miniflare entry";
const HAPROXY = "HAProxy";
/** The same Worker on the last workerd with KJ's own network I/O (bench/reference-workerd.ts). */
const REFERENCE_RELAY = `broker relay, workerd ${REFERENCE_WORKERD_VERSION} (KJ I/O)`;
/** The workerd Miniflare runs (its own dependency, which may differ from a top-level one). */
const WORKERD_VERSION = (createRequire(createRequire(import.meta.url).resolve("miniflare"))("workerd/package.json") as { version: string }).version;

interface Path {
  name: string;
  /** The process relaying (null: direct); its memory and CPU time are reported. */
  pid: number | null;
  /** Each connection needs a ticket from `POST /v1/sessions` (fetched before the timed part). */
  ticketed: boolean;
  urls(count: number): Promise<string[]>;
}

/** `count` relay URLs, tickets fetched a few at a time (tickets live 60 s: fetch right before use). */
async function ticketUrls(broker: Broker, base: string, count: number): Promise<string[]> {
  const urls: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: TICKET_CONCURRENCY }, async () => {
      while (next < count) {
        next++;
        urls.push(await broker.ticketUrl(base));
      }
    }),
  );
  return urls;
}

const mib = (bytes: number) => round(bytes / MiB, 1);
const ms = (value: number) => round(value, 2);
const mbps = (bytes: number, seconds: number) => bytes / 1e6 / seconds;
const median = (values: number[]) => percentile(values, 50);

interface SetupRow {
  times: number[];
  errors: number;
  /** The relaying process's CPU time per connection opened and closed (NaN: direct). */
  cpuMsPerConnection: number;
}

interface ThroughputRow {
  runs: number[];
  cpuPerGb: number[];
}

export async function runRelayBench(): Promise<BenchSection[]> {
  const benchStarted = performance.now();
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const echo = await startEchoServer();
    cleanups.push(() => echo.stop());
    const broker = await prepareBroker(`http://127.0.0.1:${echo.port}/desktop`);
    cleanups.push(() => broker.broker.dispose());
    cleanups.push(() => broker.stopHeartbeats());
    let haproxy: Haproxy | null = null;
    try {
      haproxy = await startHaproxy(echo.port);
    } catch (error) {
      console.error(`relay bench: ${error instanceof Error ? error.message : error}`);
    }
    if (haproxy) cleanups.push(() => haproxy?.stop());
    const referencePath = referenceWorkerdPath();
    const reference = referencePath ? await prepareBroker(`http://127.0.0.1:${echo.port}/desktop`, referencePath) : null;
    if (reference) {
      cleanups.push(() => reference.broker.dispose());
      cleanups.push(() => reference.stopHeartbeats());
    } else {
      console.error("relay bench: no reference workerd (npm run bench:reference-workerd fetches it); its row is left out");
    }

    const direct = `ws://127.0.0.1:${echo.port}/desktop`;
    const paths: Path[] = [
      { name: "direct", pid: null, ticketed: false, urls: async (count) => Array.from({ length: count }, () => direct) },
      { name: ENTRY_RELAY, pid: broker.broker.workerdPid, ticketed: true, urls: (count) => ticketUrls(broker, broker.broker.entryUrl, count) },
      { name: RELAY, pid: broker.broker.workerdPid, ticketed: true, urls: (count) => ticketUrls(broker, broker.broker.url, count) },
    ];
    if (reference) {
      paths.push({ name: REFERENCE_RELAY, pid: reference.broker.workerdPid, ticketed: true, urls: (count) => ticketUrls(reference, reference.broker.url, count) });
    }
    if (haproxy) {
      const via = `ws://127.0.0.1:${haproxy.port}/desktop`;
      paths.push({ name: HAPROXY, pid: haproxy.pid, ticketed: false, urls: async (count) => Array.from({ length: count }, () => via) });
    }

    // Opened first, used last: a relayed connection must outlive the origin-connect timeout.
    const longLived = await openSocket(await broker.ticketUrl(broker.broker.url));
    const longLivedOpenedAt = performance.now();

    // Throughput, interleaved rounds.
    const throughputRows = new Map<string, ThroughputRow>(paths.map((path) => [path.name, { runs: [], cpuPerGb: [] }]));
    for (let roundIndex = 0; roundIndex < THROUGHPUT_ROUNDS; roundIndex++) {
      for (const path of paths) {
        const [url] = await path.urls(1);
        const cpuBefore = path.pid === null ? Number.NaN : cpuSeconds(path.pid);
        const result = await throughput(url as string, THROUGHPUT);
        const cpuUsed = path.pid === null ? Number.NaN : cpuSeconds(path.pid) - cpuBefore;
        const row = throughputRows.get(path.name) as ThroughputRow;
        row.runs.push(mbps(result.bytes, result.seconds));
        // CPU per GB includes the 16 MiB warm-up on the same connection (counted in the bytes).
        row.cpuPerGb.push(cpuUsed / ((result.bytes + THROUGHPUT.warmupBytes) / 1e9));
      }
    }

    // Small-message round trips, sequential set-up, concurrent connections, per path.
    const rtt = new Map<string, number[]>();
    const setup = new Map<string, SetupRow>();
    const concurrent = new Map<string, Awaited<ReturnType<typeof concurrentConnections>>>();
    for (const path of paths) {
      const [url] = await path.urls(1);
      const { ws } = await openSocket(url as string);
      await roundTrips(ws, RTT_WARMUP, SMALL_BYTES);
      rtt.set(path.name, await roundTrips(ws, RTT_MESSAGES, SMALL_BYTES));
      await closeSocket(ws);
      const urls = await path.urls(SEQUENTIAL_CONNECTS);
      const cpuBefore = path.pid === null ? Number.NaN : cpuSeconds(path.pid);
      const connects = await sequentialConnects(urls);
      const cpuMsPerConnection = ((cpuSeconds(path.pid ?? -1) - cpuBefore) * 1000) / urls.length;
      setup.set(path.name, { ...connects, cpuMsPerConnection });
      concurrent.set(path.name, await concurrentConnections(await path.urls(CONCURRENT), CONCURRENT_TRIPS, SMALL_BYTES));
    }
    const ticketed = await ticketedConnects(TICKETED_CONNECTS, () => broker.ticketUrl(broker.broker.url));

    // Stalled reader, per path.
    const stalls = new Map<string, StallResult>();
    for (const path of paths) {
      const [url] = await path.urls(1);
      stalls.set(path.name, await stalledReader(url as string, path.pid, echo.nextFlood, STALL_MAX_BYTES, STALL_MS));
    }

    let longLivedOk = false;
    let longLivedError = "";
    const longLivedAgeS = (performance.now() - longLivedOpenedAt) / 1000;
    try {
      await roundTrips(longLived.ws, 3, SMALL_BYTES);
      longLivedOk = true;
    } catch (error) {
      longLivedError = error instanceof Error ? error.message : String(error);
    }
    await closeSocket(longLived.ws);

    return sections({ paths, haproxy, throughputRows, rtt, setup, concurrent, ticketed, stalls, longLived: { ok: longLivedOk, ageS: longLivedAgeS, error: longLivedError }, seconds: (performance.now() - benchStarted) / 1000 });
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`relay bench cleanup: ${error instanceof Error ? error.message : error}`);
      }
    }
  }
}

interface Results {
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

function sections(results: Results): BenchSection[] {
  const { paths, haproxy } = results;
  const hasReference = paths.some((path) => path.name === REFERENCE_RELAY);
  const setupNote = `client, ws echo server (node endpoint, own process) and relays on one 2-core machine, loopback; broker relay = the bundled Worker in one workerd ${WORKERD_VERSION} (Miniflare API) on a socket of its own, "Miniflare entry" = the same workerd through Miniflare's default socket (its entry worker in front), ${hasReference ? `"KJ I/O" = the same Worker on workerd ${REFERENCE_WORKERD_VERSION}, the last npm build before the Rust/Tokio network backend (npm run bench:reference-workerd; compatibility date capped at its newest), ` : ""}one ticket per connection; ${haproxy ? `HAProxy ${haproxy.version} (mode http, default threads)` : `HAProxy not installed (${HAPROXY_PATH}; bash scripts/e2e-setup.sh)`}`;
  const relayName = RELAY;
  const runsOf = (name: string) => results.throughputRows.get(name)?.runs ?? [];
  /** Relay ÷ HAProxy per round (the two runs of a round are back to back), then the median. */
  const pairedRatio = (name: string) => median(runsOf(name).map((value, index) => value / (runsOf(HAPROXY)[index] as number)));
  const ratio = pairedRatio(relayName);
  const entryRatio = pairedRatio(ENTRY_RELAY);
  const throughputChecks: BenchCheck[] = [
    haproxy
      ? {
          name: `relay throughput ≥ ${THROUGHPUT_RATIO_TARGET} × HAProxy's`,
          pass: ratio >= THROUGHPUT_RATIO_TARGET,
          detail: `${round(ratio, 2)}× (median of ${THROUGHPUT_ROUNDS} back-to-back pairs; medians ${round(median(runsOf(relayName)), 0)} vs ${round(median(runsOf(HAPROXY)), 0)} MB/s); behind Miniflare's entry worker ${round(entryRatio, 2)}×`,
        }
      : { name: `relay throughput ≥ ${THROUGHPUT_RATIO_TARGET} × HAProxy's`, pass: true, detail: "not checked: HAProxy is not installed (bash scripts/e2e-setup.sh installs it)" },
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
    setup: `${setupNote}; throughput = 64 KiB binary frames echoed, ${THROUGHPUT.totalBytes / MiB} MiB per run (≤ ${THROUGHPUT.maxMs / 1000} s) after ${THROUGHPUT.warmupBytes / MiB} MiB warm-up, ≤ ${THROUGHPUT.windowBytes / MiB} MiB in flight, MB/s of echoed bytes, ${THROUGHPUT_ROUNDS} interleaved runs; RTT = ${RTT_MESSAGES} sequential ${SMALL_BYTES}-byte messages on one connection`,
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
