/**
 * A bench-only Worker (bundled by chain-eval.ts with esbuild, served by Miniflare): runs the
 * balancer's chain (src/balancer) inside workerd over synthetic server views, so the numbers
 * are V8-in-workerd numbers, not Node's. workerd's clocks tick in whole milliseconds (and in
 * production do not advance during synchronous code at all), so sub-millisecond work is timed
 * either by tick-edge interpolation (/ticked, see `timeOnce`) or from outside, one request per
 * piece of work.
 *
 *   GET /ticked?n=1000&count=100  count evaluations, each timed inside workerd (`timeOnce`)
 *   GET /eval?n=1000            one evaluation of the default chain over n servers
 *   GET /empty?n=1000           the same request without the evaluation (the baseline)
 *   GET /batch?n=1000&k=200     k evaluations back to back; workerd's own clock for the batch
 *   GET /script?n=100&mode=first|cached|json|empty
 *                               one script step call through the Worker Loader sandbox: a
 *                               source never seen before (new isolate) or the same source again;
 *                               `json` only copies the input as the runner does
 */
import { DEFAULT_POLICY } from "../../src/balancer/policy.ts";
import { runChain } from "../../src/balancer/chain.ts";
import { createSeededRandom } from "../../src/balancer/random.ts";
import { createScriptRunner } from "../../src/sandbox/script-runner.ts";
import type { StepInput } from "../../src/balancer/step.ts";
import type { ServerView } from "../../src/balancer/types.ts";

interface BenchEnv {
  LOADER: WorkerLoader;
}

/** A realistic pick-the-emptiest script (a loop, so the loop guard's instrumentation is in play). */
const BENCH_SCRIPT =
  "function (input) { let best = null; for (const s of input.servers) { if (best === null || s.sessionCount < best.sessionCount) best = s; } return best === null ? null : best.serverId; }";

const random = createSeededRandom(42);
const inputs = new Map<number, StepInput>();

/** Server views shaped like the pool object's (`toServerView` of a beat like the heartbeat bench sends). */
function serverView(index: number): ServerView & { originUrl: string; enrolledAt: number } {
  const sessions = Array.from({ length: 5 }, (_, i) => ({
    id: `s-${index}-${i}`,
    user: `user${(index * 5 + i) % 1000}`,
    state: i % 3 === 0 ? ("suspended" as const) : ("running" as const),
    startedAt: 1_700_000_000_000 + i,
  }));
  const pendingSessions = index % 4;
  return {
    serverId: `srv_${index.toString(36).padStart(8, "0")}`,
    pool: "bench",
    hostname: `bench-node-${index}`,
    status: "up",
    draining: false,
    lastSeenAt: 1_700_000_000_000,
    loadAvg: [0.4 + (index % 7) / 10, 0.5 + (index % 5) / 10, 0.6],
    cpuCount: 8,
    cpuMhz: 2400,
    memTotalBytes: 32_000_000_000,
    memAvailableBytes: 20_000_000_000 - (index % 1000) * 1_000_000,
    sessions,
    sessionCount: sessions.length + pendingSessions,
    pendingSessions,
    users: sessions.map((session) => session.user),
    staticData: { site: "bench", maxSessions: 40 },
    metrics: { collectMs: 3 },
    clientAddress: null,
    originUrl: "http://127.0.0.1:6080",
    enrolledAt: 1_700_000_000_000,
  };
}

function inputFor(n: number): StepInput {
  let input = inputs.get(n);
  if (input === undefined) {
    input = {
      action: "session/start",
      // A user with no sessions in the pool: resume passes, so every step of the chain runs.
      user: { login: "bench-user", sessions: [], groups: [], isAdmin: false, isManager: false },
      local: {},
      servers: Array.from({ length: n }, (_, index) => serverView(index)),
      data: { roundRobinCounter: 0 },
    };
    inputs.set(n, input);
  }
  return input;
}

async function evaluate(n: number): Promise<string> {
  const result = await runChain(DEFAULT_POLICY, inputFor(n), { nowMs: Date.now(), random });
  if (!result.ok) throw new Error(`chain failed: ${result.code} ${result.message}`);
  return result.serverId;
}

/** Spins until workerd's millisecond clock ticks; returns the new reading and the spins it took. */
function spinToNextTick(): { tick: number; spins: number } {
  const from = performance.now();
  let spins = 0;
  let now = from;
  while (now === from) {
    now = performance.now();
    spins++;
  }
  return { tick: now, spins };
}

interface TickedSample {
  /** Interpolated duration, ms. */
  ms: number;
  /** Whole clock ticks the evaluation spanned from an edge start: 0 means it took < 1 ms. */
  ticks: number;
  /** Times the sample was retaken because the clock-read rate changed around it. */
  retries: number;
}

/**
 * Times one evaluation with sub-millisecond resolution although the clock ticks in whole ms
 * (locally, workerd's clock does advance during synchronous code, in 1 ms steps):
 * - spin one full tick (its clock-read count `before` calibrates the rate), so the evaluation
 *   starts exactly at a tick edge;
 * - evaluate, then read the clock: the whole ticks elapsed (exact: 0 iff it took < 1 ms);
 * - spin to the next tick counting reads (`rest`), then one more full tick (`after`);
 * - duration = ticks + 1 − rest / after.
 * If `before` and `after` differ by more than 10 %, the thread was probably descheduled while
 * spinning (which would inflate the estimate), so the sample is retaken (at most 3 times).
 */
async function timeOnce(n: number): Promise<TickedSample> {
  let retries = 0;
  for (;;) {
    spinToNextTick();
    const edge = spinToNextTick();
    await evaluate(n);
    const ticks = performance.now() - edge.tick;
    const rest = spinToNextTick().spins;
    const after = spinToNextTick().spins;
    const steady = Math.abs(edge.spins - after) <= 0.1 * Math.max(edge.spins, after);
    if (steady || retries >= 3) return { ms: ticks + 1 - Math.min(1, rest / after), ticks, retries };
    retries++;
  }
}

let runScript: ((source: string, input: unknown) => Promise<unknown>) | null = null;
let uniqueScripts = 0;

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "0");
    if (!Number.isInteger(n) || n <= 0 || n > 20_000) return new Response("bad n", { status: 400 });
    try {
      switch (url.pathname) {
        case "/ticked": {
          const count = Math.min(1_000, Number(url.searchParams.get("count") ?? "1"));
          inputFor(n);
          const samples: TickedSample[] = [];
          for (let i = 0; i < count; i++) samples.push(await timeOnce(n));
          return Response.json({ samples });
        }
        case "/eval":
          return Response.json({ serverId: await evaluate(n) });
        case "/empty":
          // Everything /eval does except the evaluation: same lookup, same response shape.
          return Response.json({ serverId: inputFor(n).servers[0]?.serverId ?? "" });
        case "/batch": {
          const k = Number(url.searchParams.get("k") ?? "1");
          inputFor(n);
          const started = performance.now();
          for (let i = 0; i < k; i++) await evaluate(n);
          // Any I/O makes workerd advance its clock past the synchronous work.
          await new Promise((resolve) => setTimeout(resolve, 0));
          return Response.json({ k, ms: performance.now() - started });
        }
        case "/script": {
          runScript ??= createScriptRunner(env.LOADER);
          const mode = url.searchParams.get("mode");
          const input = inputFor(n);
          if (mode === "empty") return Response.json({ result: input.servers[0]?.serverId ?? null, ms: 0 });
          // The runner's own copy of the input (it round-trips it through JSON before the call).
          if (mode === "json") return Response.json({ result: (JSON.parse(JSON.stringify(input)) as StepInput).servers.length, ms: 0 });
          // A new source (a unique comment) hashes to a new isolate id, so the loader starts one.
          const source = mode === "first" ? BENCH_SCRIPT.replace("{", `{ /* ${++uniqueScripts}-${crypto.randomUUID()} */`) : BENCH_SCRIPT;
          const started = performance.now();
          const result = await runScript(source, input);
          return Response.json({ result, ms: performance.now() - started });
        }
        default:
          return new Response("not found", { status: 404 });
      }
    } catch (error) {
      return new Response(error instanceof Error ? `${error.name}: ${error.message}` : String(error), { status: 500 });
    }
  },
};
