/**
 * Does an admin's slow dry run delay users' selects? On the local broker (test/harness/broker.ts:
 * one workerd, in-memory D1 and Durable Objects), a pool of 30 nodes with the default chain:
 * sequential live selects (`session/start` of new users, each reserved) first on an idle pool,
 * then while an admin client keeps one dry run in flight at all times, each with a script step
 * that waits 950 ms on a timer before `least-loaded` chooses (just under the 1 s per-selection
 * script budget; on a loaded machine the budget may stop one). The live selects run no script.
 * Loopback only, bounded in count and time.
 * Other work on the machine moves the absolute figures; what matters is whether the live selects
 * wait for the dry runs (p99 near the script's 950 ms) or not (p99 near the idle pool's).
 */
import { type LocalBroker, startBroker } from "../../test/harness/broker.ts";
import { adminCall } from "../../test/harness/client.ts";
import { type BenchSection, percentile, round } from "../lib/sections.ts";
import { beatOnce, benchHeartbeatBody, enrolSimNode, simulatedNodeAddress } from "../lib/sim-node.ts";

const POOL = "dry-run-bench";
/** 40 free slots each (bench nodes report 5 of maxSessions 40), so the run's ~630 reservations all fit. */
const NODES = 30;
const WARMUP_SELECTS = 30;
const LIVE_SELECTS = 300;
/** Each phase stops early past this: when dry runs do delay selects, 300 of them would take minutes. */
const PHASE_DEADLINE_MS = 20_000;
/** The longest interval the API allows, so no node goes down during the run. */
const INTERVAL_MS = 300_000;
const SLOW_SCRIPT_MS = 950;
const SLOW_POLICY = {
  steps: [
    { name: `wait-${SLOW_SCRIPT_MS}ms`, script: `async (input) => { await new Promise((resolve) => setTimeout(resolve, ${SLOW_SCRIPT_MS})); return null; }` },
    { use: "least-loaded" },
  ],
};

interface Sample {
  ms: number;
  ok: boolean;
  /** A dry run the per-selection script budget stopped: answered, but without a choice. */
  overBudget?: boolean;
}

let users = 0;

async function post(broker: LocalBroker, path: string, body: unknown): Promise<Sample & { body: unknown }> {
  const started = performance.now();
  try {
    const response = await fetch(`${broker.url}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${broker.adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as unknown;
    return { ms: performance.now() - started, ok: response.status === 200, body: answer };
  } catch (error) {
    return { ms: performance.now() - started, ok: false, body: String(error) };
  }
}

async function liveSelect(broker: LocalBroker): Promise<Sample> {
  const { ms, ok, body } = await post(broker, `/v1/pools/${POOL}/select`, { action: "session/start", user: { login: `bench-user-${++users}` } });
  return { ms, ok: ok && typeof (body as { serverId?: unknown }).serverId === "string" };
}

async function dryRun(broker: LocalBroker): Promise<Sample> {
  const { ms, ok, body } = await post(broker, `/v1/admin/pools/${POOL}/dry-run`, { action: "session/start", user: { login: "admin-dry-run" }, policy: SLOW_POLICY });
  const answer = body as { ok?: unknown; message?: unknown };
  const overBudget = answer.ok === false && typeof answer.message === "string" && answer.message.includes("time budget");
  return { ms, ok: ok && (answer.ok === true || overBudget), overBudget };
}

async function liveSelects(broker: LocalBroker, count: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  const started = performance.now();
  while (samples.length < count && performance.now() - started < PHASE_DEADLINE_MS) samples.push(await liveSelect(broker));
  return samples;
}

/** Keeps one dry run in flight until `stop()`; resolves with every dry run's sample once the last one ends. */
function dryRunLoop(broker: LocalBroker): { stop: () => Promise<Sample[]> } {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) samples.push(await dryRun(broker));
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

const ms = (samples: Sample[], p: number) => round(percentile(samples.map((sample) => sample.ms), p));

export async function runDryRunBench(): Promise<BenchSection[]> {
  const broker = await startBroker({ rateLimits: false });
  try {
    await adminCall(broker, "/v1/admin/pools", "POST", { name: POOL, intervalMs: INTERVAL_MS });
    for (let index = 0; index < NODES; index++) {
      const identity = await enrolSimNode(broker, { pool: POOL, hostname: `${POOL}-${index}`, address: simulatedNodeAddress(index) });
      await beatOnce(broker.url, identity, JSON.stringify(benchHeartbeatBody(index)), 1);
    }
    await liveSelects(broker, WARMUP_SELECTS);
    await dryRun(broker);
    const idle = await liveSelects(broker, LIVE_SELECTS);

    const dryRuns = dryRunLoop(broker);
    // Let the first dry run reach its script before the first live select is sent.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const busy = await liveSelects(broker, LIVE_SELECTS);
    const dry = await dryRuns.stop();

    const row = (load: string, samples: Sample[]) => [load, samples.length, ms(samples, 50), ms(samples, 99), round(Math.max(...samples.map((s) => s.ms))), samples.filter((s) => !s.ok).length];
    const p99Idle = percentile(idle.map((s) => s.ms), 99);
    const p99Busy = percentile(busy.map((s) => s.ms), 99);
    return [
      {
        title: `A live select while a slow dry run is in flight (${NODES} servers)`,
        setup:
          `broker in one workerd (test/harness/broker.ts), ${NODES} nodes up, default chain; sequential POST /v1/pools/:pool/select (admin token) for session/start of new users ` +
          `(${LIVE_SELECTS} per phase, or ${PHASE_DEADLINE_MS / 1000} s), after ${WARMUP_SELECTS} warm-up selects; in the second phase another client keeps one ` +
          `POST /v1/admin/pools/:pool/dry-run in flight at all times, its policy a script step awaiting a ${SLOW_SCRIPT_MS} ms timer, then least-loaded; client (Node fetch) on the same machine, loopback`,
        columns: ["load", "requests", "p50 ms", "p99 ms", "max ms", "errors"],
        rows: [
          row("live selects, idle pool", idle),
          row("live selects, slow dry run in flight", busy),
          row(`  the dry runs (${SLOW_SCRIPT_MS} ms script each; ${dry.filter((s) => s.overBudget).length} stopped by the 1 s script budget)`, dry),
        ],
        checks: [
          {
            name: `live selects do not wait for dry runs: p99 below half the dry run's ${SLOW_SCRIPT_MS} ms script`,
            pass: p99Busy < SLOW_SCRIPT_MS / 2,
            detail: `p99 ${round(p99Idle)} ms idle, ${round(p99Busy)} ms with a dry run in flight`,
          },
          {
            name: "every select placed, every dry run answered (a choice, or stopped by the script budget)",
            pass: [...idle, ...busy, ...dry].every((s) => s.ok) && idle.length === LIVE_SELECTS && busy.length === LIVE_SELECTS,
            detail: `${idle.length} + ${busy.length} selects, ${dry.length} dry runs, ${[...idle, ...busy, ...dry].filter((s) => !s.ok).length} failed`,
          },
        ],
      },
    ];
  } finally {
    await broker.stop();
  }
}
