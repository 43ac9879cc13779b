/**
 * `POST /v1/pools/:pool/select` end to end on the local broker (test/harness/broker.ts: one
 * workerd, in-memory D1 and Durable Objects): 1,000 nodes enrolled through the real HTTP API with real
 * Ed25519 keys, each sending one signed heartbeat so it is up, then sequential and concurrent
 * selects with the default chain. Every select is a `session/start` for a user with no
 * sessions, so the whole chain runs and the choice is reserved for 60 s: reservations
 * accumulate over the run, as they would under a burst of logins. Loopback only, bounded.
 */
import { type LocalBroker, startBroker } from "../../test/harness/broker.ts";
import { adminCall } from "../../test/harness/client.ts";
import { type BenchSection, percentile, round } from "../lib/sections.ts";
import { beatOnce, benchHeartbeatBody, enrolSimNode, simulatedNodeAddress } from "../lib/sim-node.ts";
import { breakdownInObject, type Part } from "./select-breakdown.ts";

const POOL = "select-bench";
const SMALL_POOL = "select-small";
const SMALL_NODES = 10;
const BASELINE_REQUESTS = 300;
const NODES = 1_000;
const ENROL_CONCURRENCY = 8;
const WARMUP_SELECTS = 50;
const SEQUENTIAL_SELECTS = 2_000;
const CONCURRENT_SELECTS = 1_000;
const CONCURRENCY = 8;
/** Each run stops early past this, so a slow broker cannot hold the bench for minutes. */
const RUN_DEADLINE_MS = 60_000;
/** The longest interval the API allows, so no node goes down (3 missed beats) during the run. */
const INTERVAL_MS = 300_000;
const TARGET_P50_MS = 5;
const TARGET_P99_MS = 20;

/** Enrols one node and sends its first heartbeat; throws unless both succeed. */
async function enrolAndBeat(broker: LocalBroker, pool: string, index: number): Promise<void> {
  const identity = await enrolSimNode(broker, { pool, hostname: `${pool}-${String(index).padStart(4, "0")}`, address: simulatedNodeAddress(index) });
  await beatOnce(broker.url, identity, JSON.stringify(benchHeartbeatBody(index)), 1);
}

interface SelectSample {
  ms: number;
  ok: boolean;
}

let users = 0;

async function selectOnce(broker: LocalBroker, pool: string): Promise<SelectSample> {
  // A login nobody has a session for: no resume, the whole chain runs, the choice is reserved.
  const body = JSON.stringify({ action: "session/start", user: { login: `bench-user-${++users}` } });
  const started = performance.now();
  try {
    const response = await fetch(`${broker.url}/v1/pools/${pool}/select`, {
      method: "POST",
      headers: { Authorization: `Bearer ${broker.adminToken}`, "Content-Type": "application/json" },
      body,
    });
    const decision = (await response.json()) as { serverId?: string };
    return { ms: performance.now() - started, ok: response.status === 200 && typeof decision.serverId === "string" };
  } catch {
    return { ms: performance.now() - started, ok: false };
  }
}

interface RunResult {
  samples: SelectSample[];
  seconds: number;
}

/** `concurrency` closed-loop clients sharing `total` selects; stops at the deadline. */
async function runSelects(broker: LocalBroker, total: number, concurrency: number, pool = POOL): Promise<RunResult> {
  const samples: SelectSample[] = [];
  const started = performance.now();
  let issued = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < total && performance.now() - started < RUN_DEADLINE_MS) {
        issued++;
        samples.push(await selectOnce(broker, pool));
      }
    }),
  );
  return { samples, seconds: (performance.now() - started) / 1000 };
}

async function poolState(broker: LocalBroker): Promise<{ up: number; pending: number }> {
  const { servers } = await adminCall<{ servers: Array<{ status: string; pendingSessions: number }> }>(broker, `/v1/admin/pools/${POOL}/servers`);
  return {
    up: servers.filter((server) => server.status === "up").length,
    pending: servers.reduce((sum, server) => sum + server.pendingSessions, 0),
  };
}

/** Sequential GETs (admin token), for the fixed cost a select pays outside the pool object. */
async function timeGets(broker: LocalBroker, path: string, count: number): Promise<SelectSample[]> {
  const samples: SelectSample[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(`${broker.url}${path}`, { headers: { Authorization: `Bearer ${broker.adminToken}` } });
    await response.arrayBuffer();
    samples.push({ ms: performance.now() - started, ok: response.ok });
  }
  return samples;
}

const ms = (samples: SelectSample[], p: number) => round(percentile(samples.map((sample) => sample.ms), p));

export async function runSelectBench(): Promise<BenchSection[]> {
  const broker = await startBroker({ rateLimits: false });
  let stopped = false;
  try {
    await adminCall(broker, "/v1/admin/pools", "POST", { name: POOL, intervalMs: INTERVAL_MS });
    const enrolStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: ENROL_CONCURRENCY }, async () => {
        while (next < NODES) await enrolAndBeat(broker, POOL, next++);
      }),
    );
    const enrolSeconds = (performance.now() - enrolStarted) / 1000;
    const before = await poolState(broker);

    await runSelects(broker, WARMUP_SELECTS, 1);
    const sequential = await runSelects(broker, SEQUENTIAL_SELECTS, 1);
    const afterSequential = await poolState(broker);
    const concurrent = await runSelects(broker, CONCURRENT_SELECTS, CONCURRENCY);
    const after = await poolState(broker);

    // Fixed costs outside the pool object: the HTTP round trip, the route's D1 lookup, a select
    // over a pool of 10 nodes.
    const health = await timeGets(broker, "/health", BASELINE_REQUESTS);
    const poolLookup = await timeGets(broker, `/v1/admin/pools/${POOL}`, BASELINE_REQUESTS);
    await adminCall(broker, "/v1/admin/pools", "POST", { name: SMALL_POOL, intervalMs: INTERVAL_MS });
    for (let index = 0; index < SMALL_NODES; index++) await enrolAndBeat(broker, SMALL_POOL, index);
    await runSelects(broker, WARMUP_SELECTS, 1, SMALL_POOL);
    const small = await runSelects(broker, BASELINE_REQUESTS, 1, SMALL_POOL);
    await broker.stop();
    stopped = true;

    let parts: Part[];
    try {
      parts = await breakdownInObject(NODES, afterSequential.pending);
    } catch (error) {
      parts = [{ part: `breakdown failed: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`, ms: Number.NaN, calls: 0 }];
    }
    const quarter = Math.floor(sequential.samples.length / 4);
    const firstQuarter = sequential.samples.slice(0, quarter);
    const lastQuarter = sequential.samples.slice(-quarter);
    const errors = [...sequential.samples, ...concurrent.samples].filter((sample) => !sample.ok).length;
    const row = (load: string, run: RunResult, reservations: string) => [
      load,
      run.samples.length,
      round(run.samples.length / run.seconds, 0),
      ms(run.samples, 50),
      ms(run.samples, 99),
      round(Math.max(...run.samples.map((sample) => sample.ms))),
      reservations,
      run.samples.filter((sample) => !sample.ok).length,
    ];
    const quarterSeconds = (samples: SelectSample[]) => samples.reduce((sum, sample) => sum + sample.ms, 0) / 1000;
    return [
      {
        title: "Select end to end (1,000 servers)",
        setup:
          `broker in one workerd (Miniflare API, the Worker's own socket, in-memory D1 and Durable Objects), ${NODES} nodes enrolled and each sending one signed heartbeat through the HTTP API ` +
          `(${round(enrolSeconds, 1)} s at ×${ENROL_CONCURRENCY}; ${before.up} up), default chain; each select is POST /v1/pools/:pool/select (admin token) for a session/start of a new user, ` +
          `so the whole chain runs and the choice is reserved for 60 s — reservations accumulate during the run (column 'reservations': live pending placements at the end of the run); ` +
          `${WARMUP_SELECTS} warm-up selects first; the pool object runs selects one at a time, so ×${CONCURRENCY} mostly adds queueing; client (Node fetch) on the same 2-core machine, loopback`,
        columns: ["load", "selects", "selects/s", "p50 ms", "p99 ms", "max ms", "reservations", "errors"],
        rows: [
          row("sequential", sequential, String(afterSequential.pending)),
          row(`  first ${quarter}`, { samples: firstQuarter, seconds: quarterSeconds(firstQuarter) }, "—"),
          row(`  last ${quarter}`, { samples: lastQuarter, seconds: quarterSeconds(lastQuarter) }, "—"),
          row(`closed loop ×${CONCURRENCY}`, concurrent, String(after.pending)),
        ],
        checks: [
          { name: `select p50 ≤ ${TARGET_P50_MS} ms with ${NODES} servers`, pass: percentile(sequential.samples.map((sample) => sample.ms), 50) <= TARGET_P50_MS, detail: `sequential p50 ${ms(sequential.samples, 50)} ms (×${CONCURRENCY}: ${ms(concurrent.samples, 50)} ms)` },
          { name: `select p99 ≤ ${TARGET_P99_MS} ms with ${NODES} servers`, pass: percentile(sequential.samples.map((sample) => sample.ms), 99) <= TARGET_P99_MS, detail: `sequential p99 ${ms(sequential.samples, 99)} ms (×${CONCURRENCY}: ${ms(concurrent.samples, 99)} ms)` },
          { name: "all selects placed, all nodes up", pass: errors === 0 && before.up === NODES && after.up === NODES && sequential.samples.length === SEQUENTIAL_SELECTS && concurrent.samples.length === CONCURRENT_SELECTS, detail: `${errors} errors; ${before.up}/${after.up} up before/after; ${sequential.samples.length}+${concurrent.samples.length} selects run` },
        ],
      },
      {
        title: "Where a select's time goes (1,000 servers)",
        setup:
          `top rows: sequential requests to the same broker, timed from Node (p50 / p99 ms over ${BASELINE_REQUESTS}). ` +
          `Other rows: inside the real PoolObject (bench/balancing/select-breakdown-worker.ts subclasses it; nodes written straight to its store) with ${NODES} nodes and ${afterSequential.pending} live reservations ` +
          "(as after the sequential run); each part repeated in 5 windows of ≥ 30 ms on workerd's clock; ms per call = the median window's mean",
        columns: ["part", "calls", "ms per call"],
        rows: [
          ["GET /health (HTTP round trip)", health.length, `${ms(health, 50)} / ${ms(health, 99)}`],
          ["GET /v1/admin/pools/:pool (admin auth + D1 pool lookup, as the select route does)", poolLookup.length, `${ms(poolLookup, 50)} / ${ms(poolLookup, 99)}`],
          [`select on a ${SMALL_NODES}-node pool (everything but the per-node work)`, small.samples.length, `${ms(small.samples, 50)} / ${ms(small.samples, 99)}`],
          ...parts.map((part) => [part.part, part.calls, round(part.ms, 3)]),
        ],
        checks: [],
      },
    ];
  } finally {
    if (!stopped) await broker.stop();
  }
}
