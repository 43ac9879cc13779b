/**
 * The relay (decision 1 in docs/decisions.md): WebSocket throughput, small-message round trips,
 * connection set-up, 200 concurrent connections and a stalled reader, each measured in the same
 * run directly against the node endpoint, through the broker's relay (the Worker in one workerd
 * via Miniflare's API, broker-setup.ts) and through HAProxy where the Debian package is
 * installed. The relay is measured on a socket of the Worker's own (as on Cloudflare, nothing
 * in front of it; the throughput target is checked there) and, for comparison, through
 * Miniflare's default socket, where Miniflare's entry worker sits in front. The node endpoint
 * is a `ws` echo server in its own process, enrolled as the only node of the default pool and
 * kept `up` by signed heartbeats. Every relay connection uses a fresh single-use ticket from
 * `POST /v1/sessions`, fetched before the timed part unless the row says "ticket + connect".
 * Tables and checks: sections.ts. Loopback only; every phase is bounded in bytes, count and time.
 */
import { cpuSeconds } from "../../test/harness/proc.ts";
import { startBarePassThrough } from "./bare-worker.ts";
import type { BenchSection } from "../lib/sections.ts";
import { prepareBroker, type RelayBench } from "./broker-setup.ts";
import { closeSocket, concurrentConnections, openSocket, roundTrips, sequentialConnects, throughput, ticketedConnects } from "./client.ts";
import { type Haproxy, startEchoServer, startHaproxy } from "./endpoints.ts";
import { MiB, THROUGHPUT, THROUGHPUT_ROUNDS, RTT_MESSAGES, RTT_WARMUP, SMALL_BYTES, SEQUENTIAL_CONNECTS, TICKETED_CONNECTS, CONCURRENT, CONCURRENT_TRIPS, STALL_MS, STALL_MAX_BYTES, TICKET_CONCURRENCY, RELAY, ENTRY_RELAY, HAPROXY, REFERENCE_RELAY, BARE } from "./parameters.ts";
import { referenceWorkerdPath } from "./reference-workerd.ts";
import { type Path, sections, type SetupRow, type ThroughputRow } from "./sections.ts";
import { type StallResult, stalledReader } from "./stalled-reader.ts";

/** `count` relay URLs, tickets fetched a few at a time (tickets live 60 s: fetch right before use). */
async function ticketUrls(broker: RelayBench, base: string, count: number): Promise<string[]> {
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

const mbps = (bytes: number, seconds: number) => bytes / 1e6 / seconds;

export async function runRelayBench(): Promise<BenchSection[]> {
  const benchStarted = performance.now();
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const echo = await startEchoServer();
    cleanups.push(() => echo.stop());
    const broker = await prepareBroker(`http://127.0.0.1:${echo.port}/desktop`);
    cleanups.push(() => broker.broker.stop());
    cleanups.push(() => broker.stopHeartbeats());
    const bare = await startBarePassThrough(`http://127.0.0.1:${echo.port}/desktop`);
    cleanups.push(() => bare.stop());
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
      cleanups.push(() => reference.broker.stop());
      cleanups.push(() => reference.stopHeartbeats());
    } else {
      console.error("relay bench: no reference workerd (npm run bench:reference-workerd fetches it); its row is left out");
    }

    const direct = `ws://127.0.0.1:${echo.port}/desktop`;
    const paths: Path[] = [
      { name: "direct", pid: null, ticketed: false, urls: async (count) => Array.from({ length: count }, () => direct) },
      { name: ENTRY_RELAY, pid: broker.broker.workerdPid, ticketed: true, urls: (count) => ticketUrls(broker, broker.broker.entryUrl, count) },
      { name: RELAY, pid: broker.broker.workerdPid, ticketed: true, urls: (count) => ticketUrls(broker, broker.broker.url, count) },
      { name: BARE, pid: bare.workerdPid, ticketed: false, urls: async (count) => Array.from({ length: count }, () => `${bare.url.replace(/^http/, "ws")}/desktop`) },
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

    // Throughput, interleaved rounds. Each round starts one path later, so no path always runs
    // right after the same one (the broker relay used to follow its own workerd's entry-socket run).
    const throughputRows = new Map<string, ThroughputRow>(paths.map((path) => [path.name, { runs: [], cpuPerGb: [] }]));
    for (let roundIndex = 0; roundIndex < THROUGHPUT_ROUNDS; roundIndex++) {
      const shift = roundIndex % paths.length;
      for (const path of [...paths.slice(shift), ...paths.slice(0, shift)]) {
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
