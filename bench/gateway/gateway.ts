/**
 * The node gateway against websockify (issue 13): WebSocket→TCP throughput with 64 KiB binary
 * frames to a TCP echo, and a stalled reader, in one run, on one machine. The gateway is the
 * agent's own `startGateway` in a process of its own (gateway-process.ts), each connection with a
 * fresh broker assertion; websockify is Debian's (Python, a forked process per connection). The
 * echo and flood endpoints are a third process, the client (`ws`) is this one. CPU per GB is the
 * server's process tree's user+system time over the timed part of each run. Tables and checks:
 * sections.ts. Loopback only; every phase is bounded in bytes and time.
 */
import { assertionKeyForEnrolment, newAssertionSalt, signNodeAssertion } from "../../src/tokens/node-assertion.ts";
import type { BenchSection } from "../lib/sections.ts";
import { closeSocket, openSocket, pumpEcho, stalledReader, type StallResult, type Target } from "./client.ts";
import { GATEWAY, STALL, THROUGHPUT, THROUGHPUT_ROUNDS, WEBSOCKIFY } from "./parameters.ts";
import { childrenReaped, type ServerProcess, startGatewayProcess, startTcpEndpoints, startWebsockify, treeCpuSeconds, treeRssBytes } from "./processes.ts";
import { type Measured, sections, type ThroughputRun } from "./sections.ts";

const SIGNING_KEY = new TextEncoder().encode(`gateway-bench-${crypto.randomUUID()}`);
const SERVER_ID = "srv_gatewaybench0001";
const ASSERTION_SALT = newAssertionSalt();

/** A target whose every connection carries a fresh assertion for `sessionId` (websockify ignores the header). */
function gatewayTarget(port: number, sessionId: string): Target {
  return {
    url: `ws://127.0.0.1:${port}/`,
    headers: async () => ({ "X-Broker-Assertion": await signNodeAssertion(SIGNING_KEY, { serverId: SERVER_ID, assertionSalt: ASSERTION_SALT, login: "bench", sessionId }, Date.now()) }),
  };
}

/** One connection: warm-up, then the timed echo, with the server tree's CPU over the timed part. */
async function throughputRun(target: Target, pid: number): Promise<ThroughputRun> {
  const ws = await openSocket(target);
  try {
    await pumpEcho(ws, THROUGHPUT.warmupBytes, THROUGHPUT.maxMs, THROUGHPUT.windowBytes);
    const cpuBefore = treeCpuSeconds(pid);
    const run = await pumpEcho(ws, THROUGHPUT.totalBytes, THROUGHPUT.maxMs, THROUGHPUT.windowBytes);
    const cpuSeconds = treeCpuSeconds(pid) - cpuBefore;
    return { mbps: run.bytes / 1e6 / run.seconds, cpuSecondsPerGb: cpuSeconds / (run.bytes / 1e9), bytes: run.bytes };
  } finally {
    await closeSocket(ws);
    await childrenReaped(pid);
  }
}

/** The stalled reader against one server, with its tree's RSS before, at peak and after. */
async function stallRun(target: Target, pid: number, nextFlood: Parameters<typeof stalledReader>[1]): Promise<Measured["stalls"][string]> {
  const rssBefore = treeRssBytes(pid);
  const sampler = sampleTreeRss(pid);
  let result: StallResult;
  try {
    result = await stalledReader(target, nextFlood);
  } finally {
    await childrenReaped(pid);
  }
  const rssPeak = sampler.stop();
  return { ...result, rssBefore, rssPeak, rssAfter: treeRssBytes(pid) };
}

/** Peak of `treeRssBytes` sampled every 50 ms (the harness's sampleRss reads one process; websockify is two). */
function sampleTreeRss(pid: number): { stop(): number } {
  let peak = treeRssBytes(pid);
  const timer = setInterval(() => (peak = Math.max(peak, treeRssBytes(pid))), 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, treeRssBytes(pid));
    },
  };
}

export async function runGatewayBench(): Promise<BenchSection[]> {
  const started = performance.now();
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const endpoints = await startTcpEndpoints(STALL);
    cleanups.push(() => endpoints.stop());
    const gateway = await startGatewayProcess({
      maxConnections: 200,
      maxMessageBytes: 1024 * 1024,
      connectTimeoutMs: 5_000,
      serverId: SERVER_ID,
      assertionKey: await assertionKeyForEnrolment(SIGNING_KEY, SERVER_ID, ASSERTION_SALT),
      endpoints: { echo: { kind: "tcp", host: "127.0.0.1", port: endpoints.echoPort }, flood: { kind: "tcp", host: "127.0.0.1", port: endpoints.floodPort } },
    });
    cleanups.push(() => gateway.stop());
    const websockifyEcho = await startWebsockify(endpoints.echoPort);
    const websockifyFlood = await startWebsockify(endpoints.floodPort);
    for (const server of [websockifyEcho, websockifyFlood]) if (server) cleanups.push(() => server.stop());
    if (!websockifyEcho) console.error("gateway bench: /usr/bin/websockify is missing (npm run test:e2e:setup installs it); its rows are left out");

    const servers: Array<{ name: string; echo: Target; flood: Target; process: ServerProcess; floodProcess: ServerProcess }> = [
      { name: GATEWAY, echo: gatewayTarget(gateway.port, "echo"), flood: gatewayTarget(gateway.port, "flood"), process: gateway, floodProcess: gateway },
    ];
    if (websockifyEcho && websockifyFlood) {
      servers.push({ name: WEBSOCKIFY, echo: gatewayTarget(websockifyEcho.port, "echo"), flood: gatewayTarget(websockifyFlood.port, "flood"), process: websockifyEcho, floodProcess: websockifyFlood });
    }

    const measured: Measured = { throughput: {}, stalls: {}, websockifyVersion: websockifyEcho?.version ?? null, seconds: 0 };
    // A first connection each, untimed, so neither server is measured cold: its one-time costs
    // (code compiled, heap sized for 64 KiB buffers) would otherwise count as stall growth.
    for (const server of servers) await throughputRun(server.echo, server.process.pid);
    // The stall before the timed runs, so the heap has seen one connection, not 1.3 GB.
    for (const server of servers) measured.stalls[server.name] = await stallRun(server.flood, server.floodProcess.pid, endpoints.nextFlood);
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      for (const server of servers) {
        const run = await throughputRun(server.echo, server.process.pid);
        (measured.throughput[server.name] ??= []).push(run);
      }
    }
    measured.seconds = (performance.now() - started) / 1000;
    return sections(measured);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
