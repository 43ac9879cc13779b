/**
 * The control channel (`npm run bench -- channel`): 200 agents (the real channel client over `ws`)
 * connected to one pool of the bench broker (one workerd, test/harness/broker.ts). Commands: `ping` through
 * the admin API, sequential and concurrent, and `disconnect` of one user fanned out to all 200
 * nodes. Heartbeats: the same signed-over-HTTP beat against the same body as a channel request,
 * paced and closed-loop, with workerd's CPU time per beat. Loopback only; bounded in count.
 */
import { signHeartbeatToken } from "../../agent/token.ts";
import { type LocalBroker, startBroker } from "../../test/harness/broker.ts";
import { cpuSeconds } from "../../test/harness/proc.ts";
import { type BenchSection, percentile, round } from "../lib/sections.ts";
import { benchHeartbeatBody } from "../lib/sim-node.ts";
import { adminPost, connectFleet, enrolNodes, type FleetNode } from "./fleet.ts";

const POOL = "channel";
const AGENTS = 200;
const PINGS_SEQUENTIAL = 1000;
const PINGS_CONCURRENT = 2000;
const PING_CONCURRENCY = 16;
const FAN_OUTS = 20;
const PACED_RATE_PER_S = 500;
const PACED_SECONDS = 8;
const WARM_UP_SECONDS = 2;
const BURST_BEATS = 4000;
const BURST_CONCURRENCY = 32;

interface Sample {
  ok: boolean;
  ms: number;
  /** The object's own measure, for pings. */
  rttMs?: number;
}

interface Run {
  samples: Sample[];
  seconds: number;
  cpuMsPerCall: number;
}

async function timed(call: () => Promise<{ ok: boolean; rttMs?: number }>): Promise<Sample> {
  const started = performance.now();
  try {
    const result = await call();
    return { ...result, ms: performance.now() - started };
  } catch {
    return { ok: false, ms: performance.now() - started };
  }
}

/** Runs `queues` in parallel, each in order; workerd's CPU time is divided by the calls made. */
async function closedLoop(broker: LocalBroker, queues: Array<Array<() => Promise<{ ok: boolean; rttMs?: number }>>>): Promise<Run> {
  const cpuBefore = cpuSeconds(broker.workerdPid ?? -1);
  const started = performance.now();
  const samples: Sample[] = [];
  await Promise.all(queues.map(async (queue) => {
    for (const call of queue) samples.push(await timed(call));
  }));
  const seconds = (performance.now() - started) / 1000;
  return { samples, seconds, cpuMsPerCall: ((cpuSeconds(broker.workerdPid ?? -1) - cpuBefore) * 1000) / samples.length };
}

/** Open loop at `ratePerSecond`: latency as nodes see it at that load. */
async function paced(broker: LocalBroker, calls: Array<() => Promise<{ ok: boolean }>>, ratePerSecond: number): Promise<Run> {
  const cpuBefore = cpuSeconds(broker.workerdPid ?? -1);
  const started = performance.now();
  const inFlight: Array<Promise<Sample>> = [];
  for (let index = 0; index < calls.length; index++) {
    const wait = started + (index * 1000) / ratePerSecond - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(timed(calls[index] as () => Promise<{ ok: boolean }>));
  }
  const samples = await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  return { samples, seconds, cpuMsPerCall: ((cpuSeconds(broker.workerdPid ?? -1) - cpuBefore) * 1000) / samples.length };
}

const errorsOf = (run: Run) => run.samples.filter((sample) => !sample.ok).length;
const latencies = (run: Run) => run.samples.map((sample) => sample.ms);

function ping(broker: LocalBroker, node: FleetNode) {
  return async () => {
    const response = await adminPost(broker, `/v1/admin/pools/${POOL}/servers/${node.identity.serverId}/ping`, {});
    if (response.status !== 200) return { ok: false };
    return { ok: true, rttMs: ((await response.json()) as { rttMs: number }).rttMs };
  };
}

/** Each node's beats, in order: HTTP beats pre-signed with increasing seqs, channel beats as requests. */
async function beatCalls(broker: LocalBroker, fleet: FleetNode[], perNode: number) {
  const http: Array<Array<() => Promise<{ ok: boolean }>>> = [];
  const channel: Array<Array<() => Promise<{ ok: boolean }>>> = [];
  for (const [index, node] of fleet.entries()) {
    const body = benchHeartbeatBody(index);
    const text = JSON.stringify(body);
    const nowMs = Date.now();
    const tokens = await Promise.all(Array.from({ length: perNode }, () => signHeartbeatToken(node.identity, text, node.seq.next(nowMs), nowMs)));
    http.push(tokens.map((token) => async () => {
      const response = await fetch(`${broker.url}/v1/agent/heartbeat`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: text });
      await response.arrayBuffer();
      return { ok: response.status === 200 };
    }));
    channel.push(Array.from({ length: perNode }, () => async () => ({ ok: (await node.channel.request("heartbeat", body)).ok })));
  }
  return { http, channel };
}

/** Takes `count` calls from the nodes' queues round-robin (each node's order kept), removing them. */
function interleave<T>(perNode: T[][], count: number): T[] {
  const order: T[] = [];
  while (order.length < count && perNode.some((queue) => queue.length > 0)) {
    for (const queue of perNode) {
      const next = queue.shift();
      if (next !== undefined && order.length < count) order.push(next);
    }
  }
  return order;
}

/** `count` calls split over `workers` sequential queues, each node's calls in one queue. */
function byWorker<T>(perNode: T[][], count: number, workers: number): T[][] {
  const perNodeCount = Math.ceil(count / perNode.length);
  return Array.from({ length: workers }, (_, worker) => perNode.filter((_, node) => node % workers === worker).flatMap((queue) => queue.splice(0, perNodeCount)));
}

export async function runChannelBench(): Promise<BenchSection[]> {
  const broker = await startBroker({ rateLimits: false });
  const clientErrors: string[] = [];
  let fleet: FleetNode[] = [];
  try {
    const created = await adminPost(broker, "/v1/admin/pools", { name: POOL, intervalMs: 300_000 });
    if (created.status !== 201) throw new Error(`pool: ${created.status} ${await created.text()}`);
    fleet = await connectFleet(broker, await enrolNodes(broker, POOL, AGENTS), clientErrors);
    const node = (index: number) => fleet[index % fleet.length] as FleetNode;

    // Commands: untimed warm-up, then sequential and concurrent pings, then user fan-outs.
    await closedLoop(broker, [Array.from({ length: 200 }, (_, index) => ping(broker, node(index)))]);
    const sequential = await closedLoop(broker, [Array.from({ length: PINGS_SEQUENTIAL }, (_, index) => ping(broker, node(index)))]);
    const concurrent = await closedLoop(broker, Array.from({ length: PING_CONCURRENCY }, (_, worker) => Array.from({ length: PINGS_CONCURRENT / PING_CONCURRENCY }, (_, index) => ping(broker, node(worker + index * PING_CONCURRENCY)))));
    const fanOut = await closedLoop(broker, [Array.from({ length: FAN_OUTS }, (_, index) => async () => {
      const response = await adminPost(broker, `/v1/admin/users/bench-user-${index}/disconnect`, {});
      const report = (await response.json()) as { nodes: number; failed: unknown[] };
      return { ok: response.status === 200 && report.nodes === AGENTS && report.failed.length === 0 };
    })]);

    // Heartbeats: the same beats over HTTP and over the channel, paced then closed-loop.
    const pacedTotal = PACED_RATE_PER_S * PACED_SECONDS;
    const warmTotal = PACED_RATE_PER_S * WARM_UP_SECONDS;
    const { http, channel } = await beatCalls(broker, fleet, Math.ceil((pacedTotal + warmTotal + BURST_BEATS) / AGENTS) + 1);
    await paced(broker, interleave(http, warmTotal), PACED_RATE_PER_S);
    const httpPaced = await paced(broker, interleave(http, pacedTotal), PACED_RATE_PER_S);
    await paced(broker, interleave(channel, warmTotal), PACED_RATE_PER_S);
    const channelPaced = await paced(broker, interleave(channel, pacedTotal), PACED_RATE_PER_S);
    const httpBurst = await closedLoop(broker, byWorker(http, BURST_BEATS, BURST_CONCURRENCY));
    const channelBurst = await closedLoop(broker, byWorker(channel, BURST_BEATS, BURST_CONCURRENCY));

    const rtts = [...sequential.samples, ...concurrent.samples].flatMap((sample) => (sample.rttMs === undefined ? [] : [sample.rttMs]));
    const commandRow = (name: string, run: Run, objectRtt: boolean) => [
      name,
      run.samples.length,
      round(run.samples.length / run.seconds, 0),
      round(percentile(latencies(run), 50)),
      round(percentile(latencies(run), 99)),
      objectRtt ? `${percentile(rtts, 50)} / ${percentile(rtts, 99)}` : "–",
      errorsOf(run),
    ];
    const beatRow = (transport: string, load: string, run: Run) => [transport, load, run.samples.length, round(run.samples.length / run.seconds, 0), round(percentile(latencies(run), 50)), round(percentile(latencies(run), 99)), round(run.cpuMsPerCall, 3), errorsOf(run)];
    const commandErrors = errorsOf(sequential) + errorsOf(concurrent) + errorsOf(fanOut);
    const beatErrors = [httpPaced, channelPaced, httpBurst, channelBurst].reduce((sum, run) => sum + errorsOf(run), 0);
    const setup = `broker in one workerd (Miniflare API, the Worker's own socket); ${AGENTS} agents (agent/channel/client.ts over ws, in one Node process) connected to pool "${POOL}"; client, agents and workerd on the same 2-core machine, loopback`;
    return [
      {
        title: "Control channel: commands with 200 agents connected",
        setup: `${setup}; time = admin API call from Node (client → Worker → pool object → agent → object → Worker → client); object RTT = the object's own measure (workerd's clock, whole ms); fan-out = POST /v1/admin/users/:login/disconnect, one disconnect to every connected node, answered when all replied`,
        columns: ["command", "calls", "calls/s", "p50 ms", "p99 ms", "object RTT p50 / p99 ms", "errors"],
        rows: [
          commandRow("ping, sequential", sequential, false),
          commandRow(`ping, closed loop ×${PING_CONCURRENCY}`, concurrent, true),
          commandRow(`disconnect one user on all ${AGENTS} nodes`, fanOut, false),
        ],
        checks: [
          { name: `all ${AGENTS} channels open, no client error`, pass: fleet.every((entry) => entry.channel.connected) && clientErrors.length === 0, detail: `${fleet.filter((entry) => entry.channel.connected).length} open; ${clientErrors.length} client errors${clientErrors.length > 0 ? ` (${clientErrors[0]})` : ""}` },
          { name: "command round trip p99 ≤ 20 ms with 200 agents connected", pass: percentile(latencies(sequential), 99) <= 20, detail: `sequential ping p99 ${round(percentile(latencies(sequential), 99))} ms (p50 ${round(percentile(latencies(sequential), 50))})` },
          { name: `disconnect of one user reaches all ${AGENTS} nodes within a second`, pass: percentile(latencies(fanOut), 99) <= 1000, detail: `p99 ${round(percentile(latencies(fanOut), 99))} ms for ${AGENTS} nodes` },
          { name: "zero command errors", pass: commandErrors === 0, detail: `${commandErrors} errors` },
        ],
      },
      {
        title: "Heartbeats: HTTP vs control channel, one pool",
        setup: `${setup}; the same ~1 KiB body: HTTP = POST /v1/agent/heartbeat with a node-signed JWT (Worker, then the object verifies Ed25519), channel = a heartbeat request on the node's open channel (the object validates the body); ${WARM_UP_SECONDS} s untimed warm-up per transport before its paced run; CPU = workerd's user+system time per beat`,
        columns: ["transport", "load", "beats", "beats/s", "p50 ms", "p99 ms", "workerd CPU ms/beat", "errors"],
        rows: [
          beatRow("HTTP", `paced ${PACED_RATE_PER_S}/s`, httpPaced),
          beatRow("channel", `paced ${PACED_RATE_PER_S}/s`, channelPaced),
          beatRow("HTTP", `closed loop ×${BURST_CONCURRENCY}`, httpBurst),
          beatRow("channel", `closed loop ×${BURST_CONCURRENCY}`, channelBurst),
        ],
        checks: [{ name: "zero heartbeat errors", pass: beatErrors === 0, detail: `${beatErrors} errors` }],
      },
    ];
  } finally {
    await Promise.all(fleet.map((entry) => entry.channel.stop()));
    await broker.stop();
  }
}
