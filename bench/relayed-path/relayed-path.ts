/**
 * The whole relayed path (issue 13): client → broker relay (the Worker in one workerd) → the
 * agent's node gateway → TCP echo, against client → HAProxy → websockify → TCP echo, in one run
 * on one machine, with each path's node hop alone (client → gateway, client → websockify) as
 * reference rows. The broker is the relay bench's (a relay profile, one node kept up by signed
 * heartbeats, a fresh single-use ticket per connection), enrolled with the gateway's address as
 * its origin; the gateway is the agent's `startGateway` in a process of its own, verifying the
 * broker's assertions with the key the enrolment answered, its `"*"` endpoint the echo. The TCP
 * echo is the gateway bench's. Measured: echo throughput with 64 KiB frames (interleaved
 * rounds), the CPU of each hop's process tree per GB, small-message round trips and sequential
 * connection set-up. Tables: sections.ts. Loopback only; every phase is bounded in bytes, count
 * and time.
 */
import { signToken } from "../../src/tokens/broker-token.ts";
import { nodeAssertionKind } from "../../src/tokens/node-assertion.ts";
import { freePort } from "../../test/harness/ports.ts";
import { closeSocket, openSocket, pumpEcho, type Target } from "../gateway/client.ts";
import { THROUGHPUT, THROUGHPUT_ROUNDS, STALL } from "../gateway/parameters.ts";
import { childrenReaped, startGatewayProcess, startTcpEndpoints, startWebsockify, treeCpuSeconds } from "../gateway/processes.ts";
import type { BenchSection } from "../lib/sections.ts";
import { prepareBroker } from "../relay/broker-setup.ts";
import { roundTrips } from "../relay/client.ts";
import { startHaproxy } from "../relay/endpoints.ts";
import { CONNECTS, GATEWAY_ALONE, HAPROXY_WEBSOCKIFY, RELAYED, RTT_MESSAGES, RTT_WARMUP, SMALL_BYTES, WEBSOCKIFY_ALONE } from "./parameters.ts";
import { type PathHops, type PathRun, sections } from "./sections.ts";

/** One path: a fresh target per connection (a relay ticket, or a gateway assertion) and the processes that carry it, hop by hop. */
interface Path extends PathHops {
  target(): Promise<Target>;
}

const fixed = (url: string, headers: Record<string, string> = {}): Target => ({ url, headers: async () => headers });

/** One connection: warm-up, then the timed echo, with each hop's process-tree CPU over the timed part. */
async function throughputRun(path: Path): Promise<PathRun> {
  const ws = await openSocket(await path.target());
  try {
    await pumpEcho(ws, THROUGHPUT.warmupBytes, THROUGHPUT.maxMs, THROUGHPUT.windowBytes);
    const before = path.hops.map((hop) => treeCpuSeconds(hop.pid));
    const run = await pumpEcho(ws, THROUGHPUT.totalBytes, THROUGHPUT.maxMs, THROUGHPUT.windowBytes);
    const hopCpu = path.hops.map((hop, index) => (treeCpuSeconds(hop.pid) - (before[index] as number)) / (run.bytes / 1e9));
    return { mbps: run.bytes / 1e6 / run.seconds, hopCpuSecondsPerGb: hopCpu };
  } finally {
    await closeSocket(ws);
    for (const hop of path.hops) await childrenReaped(hop.pid);
  }
}

/** Sequential connections, each closed before the next; ms from the WebSocket's creation to open (a ticket or assertion is made before). */
async function connects(path: Path, count: number): Promise<{ times: number[]; errors: number }> {
  const times: number[] = [];
  let errors = 0;
  for (let index = 0; index < count; index++) {
    try {
      const target = await path.target();
      const headers = await target.headers();
      const started = performance.now();
      const ws = await openSocket(fixed(target.url, headers));
      times.push(performance.now() - started);
      await closeSocket(ws);
    } catch {
      errors++;
    }
  }
  for (const hop of path.hops) await childrenReaped(hop.pid);
  return { times, errors };
}

export async function runRelayedPathBench(): Promise<BenchSection[]> {
  const started = performance.now();
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const echo = await startTcpEndpoints(STALL);
    cleanups.push(() => echo.stop());
    const gatewayPort = await freePort();
    const relay = await prepareBroker(`http://127.0.0.1:${gatewayPort}/`);
    cleanups.push(() => relay.broker.stop());
    cleanups.push(() => relay.stopHeartbeats());
    const { serverId, assertionKey } = relay.node;
    if (!assertionKey) throw new Error("the broker answered the enrolment without an assertion key (no SIGNING_KEY?)");
    const gateway = await startGatewayProcess({
      port: gatewayPort,
      maxConnections: 200,
      maxMessageBytes: 1024 * 1024,
      connectTimeoutMs: 5_000,
      serverId,
      assertionKey,
      endpoints: { "*": { kind: "tcp", host: "127.0.0.1", port: echo.echoPort } },
    });
    cleanups.push(() => gateway.stop());
    const key = new Uint8Array(Buffer.from(assertionKey, "base64url"));
    const gatewayUrl = `ws://127.0.0.1:${gatewayPort}/`;
    const assertion = async () => (await signToken(key, nodeAssertionKind(serverId), "bench", { sid: "echo" }, Date.now())).token;

    const paths: Path[] = [
      {
        name: RELAYED,
        target: async () => fixed(await relay.ticketUrl(relay.broker.url)),
        hops: [
          { name: "workerd", pid: relay.broker.workerdPid },
          { name: "gateway", pid: gateway.pid },
        ],
      },
      { name: GATEWAY_ALONE, target: async () => fixed(gatewayUrl, { "X-Broker-Assertion": await assertion() }), hops: [{ name: "gateway", pid: gateway.pid }] },
    ];
    const websockify = await startWebsockify(echo.echoPort);
    let haproxyVersion: string | null = null;
    if (websockify) {
      cleanups.push(() => websockify.stop());
      const haproxy = await startHaproxy(websockify.port);
      if (haproxy) {
        cleanups.push(() => haproxy.stop());
        haproxyVersion = haproxy.version;
        paths.splice(1, 0, {
          name: HAPROXY_WEBSOCKIFY,
          target: async () => fixed(`ws://127.0.0.1:${haproxy.port}/`),
          hops: [
            { name: "haproxy", pid: haproxy.pid },
            { name: "websockify", pid: websockify.pid },
          ],
        });
      } else console.error("relayed-path bench: HAProxy is not installed (npm run test:e2e:setup); its row is left out");
      paths.push({ name: WEBSOCKIFY_ALONE, target: async () => fixed(`ws://127.0.0.1:${websockify.port}/`), hops: [{ name: "websockify", pid: websockify.pid }] });
    } else console.error("relayed-path bench: /usr/bin/websockify is missing (npm run test:e2e:setup); its rows are left out");

    // One untimed connection each, so no path is measured cold.
    for (const path of paths) await throughputRun(path);
    const runs = new Map<string, PathRun[]>(paths.map((path) => [path.name, []]));
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      for (const path of paths) runs.get(path.name)?.push(await throughputRun(path));
    }
    const rtt = new Map<string, number[]>();
    const setup = new Map<string, { times: number[]; errors: number }>();
    for (const path of paths) {
      const ws = await openSocket(await path.target());
      try {
        await roundTrips(ws, RTT_WARMUP, SMALL_BYTES);
        rtt.set(path.name, await roundTrips(ws, RTT_MESSAGES, SMALL_BYTES));
      } finally {
        await closeSocket(ws);
      }
      setup.set(path.name, await connects(path, CONNECTS));
    }
    return sections({ paths, runs, rtt, setup, websockifyVersion: websockify?.version ?? null, haproxyVersion, seconds: (performance.now() - started) / 1000 });
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`relayed-path bench cleanup: ${error instanceof Error ? error.message : error}`);
      }
    }
  }
}
