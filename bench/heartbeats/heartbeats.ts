/**
 * Heartbeat ingest: signed beats from many enrolled nodes into one pool and across four pools,
 * against the broker in one workerd (test/harness/broker.ts). Beats are signed before the timed
 * run so the client's CPU goes to sending, not to Ed25519. Loopback only, bounded in count.
 */
import { signHeartbeatToken } from "../../agent/token.ts";
import { type LocalBroker, startBroker } from "../../test/harness/broker.ts";
import { adminCall } from "../../test/harness/client.ts";
import { cpuSeconds } from "../../test/harness/proc.ts";
import { freePort } from "../../test/harness/ports.ts";
import { type IsolateProfileSummary, LONG_GC_PAUSE_MS, startIsolateProfiler } from "../lib/isolate-profile.ts";
import { type BenchSection, percentile, round } from "../lib/sections.ts";
import { benchHeartbeatBody, enrolSimNode, postHeartbeat, simulatedNodeAddress } from "../lib/sim-node.ts";

interface PreparedBeat {
  token: string;
  body: string;
}

const NODES = 200;
const PACED_RATE_PER_S = 500;
const PACED_SECONDS = 8;
/** Untimed paced beats before each measured paced run (JIT, allocator and connection pool warm). */
const WARM_UP_SECONDS = 2;
const BURST_BEATS = 4000;
const BURST_CONCURRENCY = 32;

function heartbeatBody(index: number): string {
  return JSON.stringify(benchHeartbeatBody(index));
}

/** Enrols `count` nodes spread round-robin over `pools` and pre-signs `beatsPerNode` beats each. */
async function prepare(broker: LocalBroker, pools: string[], count: number, beatsPerNode: number): Promise<PreparedBeat[][]> {
  const perNode: PreparedBeat[][] = [];
  for (let index = 0; index < count; index++) {
    const pool = pools[index % pools.length] as string;
    const identity = await enrolSimNode(broker, { pool, hostname: `${pool}-node-${index}`, address: simulatedNodeAddress(index) });
    const body = heartbeatBody(index);
    const nowMs = Date.now();
    // One untimed beat per node first: the pool object is warm and has imported every key.
    await send(broker, { token: await signHeartbeatToken(identity, body, 1, nowMs), body });
    const beats: PreparedBeat[] = [];
    for (let seq = 2; seq <= beatsPerNode + 1; seq++) beats.push({ token: await signHeartbeatToken(identity, body, seq, nowMs), body });
    perNode.push(beats);
  }
  return perNode;
}

async function send(broker: LocalBroker, beat: PreparedBeat): Promise<{ ok: boolean; ms: number }> {
  return timed(() => postHeartbeat(broker.url, beat.token, beat.body));
}

/** The control: a request that does no handler work (`GET /health`), through the same client and socket. */
async function getHealth(broker: LocalBroker): Promise<{ ok: boolean; ms: number }> {
  return timed(async () => {
    const response = await fetch(`${broker.url}/health`);
    await response.arrayBuffer();
    return response.status;
  });
}

async function timed(request: () => Promise<number>): Promise<{ ok: boolean; ms: number }> {
  const started = performance.now();
  try {
    const status = await request();
    return { ok: status === 200, ms: performance.now() - started };
  } catch {
    return { ok: false, ms: performance.now() - started };
  }
}

/** Interleaves nodes so consecutive beats come from different nodes, keeping each node's seq order. */
function schedule(perNode: PreparedBeat[][], total: number): PreparedBeat[] {
  const order: PreparedBeat[] = [];
  for (let round = 0; order.length < total; round++) {
    for (const beats of perNode) {
      const beat = beats[round];
      if (beat && order.length < total) order.push(beat);
    }
  }
  return order;
}

interface RunResult {
  beats: number;
  /** workerd's user + system CPU over the run, per request. */
  cpuMsPerRequest: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

/** Closed loop: `concurrency` senders, each node's beats sent in order by one sender at a time. */
async function runBurst(broker: LocalBroker, perNode: PreparedBeat[][], concurrency: number): Promise<RunResult> {
  const queues = Array.from({ length: concurrency }, (_, worker) => perNode.filter((_, node) => node % concurrency === worker).flat());
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = cpuSeconds(broker.workerdPid ?? -1);
  const started = performance.now();
  await Promise.all(
    queues.map(async (queue) => {
      for (const beat of queue) {
        const result = await send(broker, beat);
        latencies.push(result.ms);
        if (!result.ok) errors++;
      }
    }),
  );
  return resultOf(latencies, errors, started, cpuBefore, broker);
}

/** Open loop at a fixed rate: latency as agents would see it at that load. */
async function runPaced(broker: LocalBroker, beats: PreparedBeat[], ratePerSecond: number): Promise<RunResult> {
  return runPacedRequests(broker, beats.length, ratePerSecond, (index) => send(broker, beats[index] as PreparedBeat));
}

async function runPacedRequests(broker: LocalBroker, count: number, ratePerSecond: number, request: (index: number) => Promise<{ ok: boolean; ms: number }>): Promise<RunResult> {
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = cpuSeconds(broker.workerdPid ?? -1);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < count; index++) {
    const due = started + (index * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      request(index).then((result) => {
        latencies.push(result.ms);
        if (!result.ok) errors++;
      }),
    );
  }
  await Promise.all(inFlight);
  return resultOf(latencies, errors, started, cpuBefore, broker);
}

function resultOf(latencies: number[], errors: number, started: number, cpuBefore: number, broker: LocalBroker): RunResult {
  const seconds = (performance.now() - started) / 1000;
  const cpuMsPerRequest = ((cpuSeconds(broker.workerdPid ?? -1) - cpuBefore) * 1000) / latencies.length;
  return { beats: latencies.length, perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), cpuMsPerRequest, errors };
}

export async function runHeartbeatBench(): Promise<BenchSection[]> {
  const inspectorPort = await freePort();
  const broker = await startBroker({ rateLimits: false, inspectorPort });
  try {
    for (const pool of ["hb1", "hb2", "hb3", "hb4"]) await adminCall(broker, "/v1/admin/pools", "POST", { name: pool });
    const pacedTotal = PACED_RATE_PER_S * PACED_SECONDS;
    const warmTotal = PACED_RATE_PER_S * WARM_UP_SECONDS;
    const perNodePaced = Math.ceil(pacedTotal / NODES);
    const perNodeWarm = Math.ceil(warmTotal / NODES);
    // Warm-up, paced and closed loop, then a second paced run under the profiler (one pool only).
    const beatsPerNode = perNodeWarm + 2 * perNodePaced + Math.ceil(BURST_BEATS / NODES) + 1;
    // Beats are signed ahead and live ~60 s, so each pool set is prepared just before its runs.
    const onePool = await prepare(broker, ["default"], NODES, beatsPerNode);
    // Each node's beats in seq order: warm-up (untimed), paced, the closed loop, then the profiled run.
    const phase = (perNode: PreparedBeat[][], from: number, count: number) => perNode.map((beats) => beats.slice(from, from + count));

    await runPaced(broker, schedule(phase(onePool, 0, perNodeWarm), warmTotal), PACED_RATE_PER_S);
    const pacedOne = await runPaced(broker, schedule(phase(onePool, perNodeWarm, perNodePaced), pacedTotal), PACED_RATE_PER_S);
    const burstOne = await runBurst(broker, phase(onePool, perNodeWarm + perNodePaced, BURST_BEATS / NODES), BURST_CONCURRENCY);
    // After the checked run, so the profiler's own cost stays out of it.
    const profiledHealth = await profiled(inspectorPort, () => runPacedRequests(broker, pacedTotal, PACED_RATE_PER_S, () => getHealth(broker)));
    const profiledOne = await profiled(inspectorPort, () =>
      runPaced(broker, schedule(phase(onePool, perNodeWarm + perNodePaced + BURST_BEATS / NODES, perNodePaced), pacedTotal), PACED_RATE_PER_S),
    );
    const fourPools = await prepare(broker, ["hb1", "hb2", "hb3", "hb4"], NODES, beatsPerNode);
    await runPaced(broker, schedule(phase(fourPools, 0, perNodeWarm), warmTotal), PACED_RATE_PER_S);
    const pacedFour = await runPaced(broker, schedule(phase(fourPools, perNodeWarm, perNodePaced), pacedTotal), PACED_RATE_PER_S);
    const burstFour = await runBurst(broker, phase(fourPools, perNodeWarm + perNodePaced, BURST_BEATS / NODES), BURST_CONCURRENCY);

    const row = (name: string, mode: string, result: RunResult) => [name, mode, result.beats, round(result.perSecond, 0), round(result.p50), round(result.p99), round(result.cpuMsPerRequest), result.errors];
    return [
      {
        title: "Heartbeat ingest",
        setup: `broker in one workerd (Miniflare API, the Worker's own socket, its V8 inspector open for the profiled runs after), ${NODES} enrolled nodes, signed 1 KiB beats, ${WARM_UP_SECONDS} s untimed warm-up before each paced run, client on the same 2-core machine, loopback`,
        columns: ["pools", "load", "beats", "beats/s", "p50 ms", "p99 ms", "workerd CPU ms/beat", "errors"],
        rows: [
          row("1", `paced ${PACED_RATE_PER_S}/s`, pacedOne),
          row("1", `closed loop ×${BURST_CONCURRENCY}`, burstOne),
          row("4", `paced ${PACED_RATE_PER_S}/s`, pacedFour),
          row("4", `closed loop ×${BURST_CONCURRENCY}`, burstFour),
        ],
        checks: [
          { name: "≥ 500 heartbeats/s into one pool", pass: burstOne.perSecond >= 500 && pacedOne.perSecond >= 0.95 * PACED_RATE_PER_S, detail: `${round(burstOne.perSecond, 0)}/s closed loop; paced run kept ${round(pacedOne.perSecond, 0)}/s` },
          { name: "p99 ≤ 50 ms at 500/s into one pool", pass: pacedOne.p99 <= 50, detail: `p99 ${round(pacedOne.p99)} ms` },
          { name: "zero errors", pass: pacedOne.errors + burstOne.errors + pacedFour.errors + burstFour.errors === 0, detail: `${pacedOne.errors + burstOne.errors + pacedFour.errors + burstFour.errors} errors` },
        ],
      },
      whereThePercentileGoes(profiledHealth, profiledOne),
    ];
  } finally {
    await broker.stop();
  }
}

type ProfiledRun = RunResult & { profile: IsolateProfileSummary };

async function profiled(inspectorPort: number, run: () => Promise<RunResult>): Promise<ProfiledRun> {
  const profiler = await startIsolateProfiler(inspectorPort);
  const result = await run();
  return { ...result, profile: await profiler.stop() };
}

/** The one-pool paced run again under the sampling profiler, beside the same pace of requests that do no work. */
function whereThePercentileGoes(health: ProfiledRun, beats: ProfiledRun): BenchSection {
  const row = (name: string, result: ProfiledRun) => {
    const { profile } = result;
    return [name, result.beats, round(result.p50), round(result.p99), round(result.max), round(result.cpuMsPerRequest), round((result.cpuMsPerRequest * PACED_RATE_PER_S) / 10, 0), round(profile.gcMs, 0), round(profile.longestGcPauseMs, 1), profile.longGcPauses, result.errors];
  };
  return {
    title: "Heartbeat ingest: where the one-pool p99 goes",
    setup: `right after the one-pool runs above, on the same broker, pool and client, each paced ${PACED_RATE_PER_S}/s for ${PACED_SECONDS} s under V8's sampling profiler (the Worker's isolate, which holds the pool object too, through workerd's inspector; it costs the isolate some CPU, so these runs are not the ones checked); workerd CPU = the process's user + system time over the run (every thread, the profiler's included); a GC pause = "(garbage collector)" samples in a row; GET /health is the control: the same client, socket and pace, no handler work`,
    columns: ["run", "requests", "p50 ms", "p99 ms", "max ms", "workerd CPU ms/request", "workerd CPU % of a core", "GC ms", "longest GC pause ms", `GC pauses ≥ ${LONG_GC_PAUSE_MS} ms`, "errors"],
    rows: [row("GET /health (control)", health), row("heartbeats into one pool", beats)],
    checks: [],
  };
}
