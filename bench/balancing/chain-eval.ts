/**
 * Chain evaluation inside workerd: bundles chain-eval-worker.ts (which imports
 * src/balancer) with esbuild, serves it from one workerd through Miniflare with a Worker Loader
 * binding, and collects per-evaluation times.
 *
 * workerd's clocks (`Date.now`, `performance.now`, `process.hrtime`) tick in whole milliseconds
 * locally (and in production do not advance during synchronous code at all), so three methods:
 * - tick-edge interpolation inside workerd (the Worker's `timeOnce`): each evaluation starts at
 *   a clock tick; the ticks it spans plus the fraction of the last tick, measured by spinning to
 *   the next tick and calibrating the spin count against a full tick. A per-evaluation
 *   distribution with no HTTP in it; the checked numbers.
 * - in-worker batches: k evaluations back to back, timed by the Worker's own clock, over k.
 * - per request from Node: one evaluation per HTTP request, minus the median of an interleaved
 *   identical request without it; its p99 carries loopback jitter, so it is an upper bound.
 * Loopback only; bounded in count.
 */
import { request as httpRequest, Agent } from "node:http";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { bundleBenchWorker, workerCompatibility } from "../lib/bench-worker.ts";
import { type BenchSection, percentile, round } from "../lib/sections.ts";

const SIZES = [10, 100, 1_000, 10_000];
/** Evaluations timed inside workerd per size (each costs ~2 ms of clock spinning on top). */
const TICKED: Record<number, number> = { 10: 2_000, 100: 2_000, 1_000: 2_000, 10_000: 400 };
const TICKED_PER_REQUEST = 100;
/** Measured pairs (evaluation + baseline request) per size, timed from Node. */
const PAIRS: Record<number, number> = { 10: 1_000, 100: 1_000, 1_000: 1_000, 10_000: 200 };
const WARMUP = 300;
const BATCHES = 5;
/** Roughly how long one in-worker batch should take, so the 1 ms clock is ≤ 2 % of it. */
const BATCH_TARGET_MS = 60;
const SCRIPT_SIZES = [10, 100, 1_000];
const SCRIPT_FIRST_CALLS = 20;
const SCRIPT_CACHED_CALLS = 300;
const TARGET_SERVERS = 1_000;
const TARGET_P99_MS = 1;

interface Served {
  get(path: string): Promise<{ ms: number; body: string }>;
  dispose(): Promise<void>;
}

async function serve(): Promise<Served> {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      scriptPath: await bundleBenchWorker("balancing/chain-eval-worker"),
      ...workerCompatibility(),
      workerLoaders: { LOADER: {} },
      host: "127.0.0.1",
      port: 0,
    }),
  );
  const base = new URL((await mf.ready).toString());
  // One kept-alive connection, so a request is one loopback round trip, not a TCP handshake.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path: string) =>
    new Promise<{ ms: number; body: string }>((resolve, reject) => {
      const started = performance.now();
      const req = httpRequest({ host: base.hostname, port: base.port, path, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const ms = performance.now() - started;
          const body = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) reject(new Error(`${path}: HTTP ${res.statusCode}: ${body.slice(0, 300)}`));
          else resolve({ ms, body });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  return {
    get,
    dispose: async () => {
      agent.destroy();
      await mf.dispose();
    },
  };
}

interface Timed {
  /** Per-call times with the baseline's median subtracted (floored at 0). */
  samples: number[];
  baselineP50: number;
  baselineP99: number;
}

/** Alternates `work` and `baseline` requests (which goes first alternates too). */
async function pairs(served: Served, work: () => string, baseline: string, count: number): Promise<Timed> {
  const raw: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      raw.push((await served.get(work())).ms);
      base.push((await served.get(baseline)).ms);
    } else {
      base.push((await served.get(baseline)).ms);
      raw.push((await served.get(work())).ms);
    }
  }
  const baselineP50 = percentile(base, 50);
  return { samples: raw.map((ms) => Math.max(0, ms - baselineP50)), baselineP50, baselineP99: percentile(base, 99) };
}

interface TickedSample {
  ms: number;
  ticks: number;
  retries: number;
}

interface SizeResult {
  n: number;
  ticked: number[];
  /** Evaluations that spanned at least one whole clock tick from an edge start (≥ 1 ms). */
  overOneMs: number;
  retries: number;
  timed: Timed;
  batchMeanMs: number;
  batchK: number;
}

async function measureSize(served: Served, n: number): Promise<SizeResult> {
  for (let i = 0; i < WARMUP; i++) await served.get(`/eval?n=${n}`);
  const raw: TickedSample[] = [];
  for (let left = TICKED[n] ?? 500; left > 0; left -= TICKED_PER_REQUEST) {
    const { samples } = JSON.parse((await served.get(`/ticked?n=${n}&count=${Math.min(left, TICKED_PER_REQUEST)}`)).body) as { samples: TickedSample[] };
    raw.push(...samples);
  }
  const ticked = raw.map((sample) => sample.ms);
  const overOneMs = raw.filter((sample) => sample.ticks >= 1).length;
  const retries = raw.reduce((sum, sample) => sum + sample.retries, 0);
  const timed = await pairs(served, () => `/eval?n=${n}`, `/empty?n=${n}`, PAIRS[n] ?? 500);
  const estimate = Math.max(percentile(ticked, 50), 0.002);
  const k = Math.max(10, Math.min(50_000, Math.round(BATCH_TARGET_MS / estimate)));
  const means: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const { ms } = JSON.parse((await served.get(`/batch?n=${n}&k=${k}`)).body) as { ms: number };
    means.push(ms / k);
  }
  return { n, ticked, overOneMs, retries, timed, batchMeanMs: percentile(means, 50), batchK: k };
}

interface ScriptResult {
  n: number;
  first: Timed;
  firstInWorker: number[];
  cached: Timed;
  copy: Timed;
}

async function measureScript(served: Served, n: number): Promise<ScriptResult> {
  const empty = `/script?n=${n}&mode=empty`;
  const first = await pairs(served, () => `/script?n=${n}&mode=first`, empty, SCRIPT_FIRST_CALLS);
  // The in-worker clock (1 ms ticks) is fine for calls that start an isolate.
  const firstInWorker: number[] = [];
  for (let i = 0; i < 5; i++) firstInWorker.push((JSON.parse((await served.get(`/script?n=${n}&mode=first`)).body) as { ms: number }).ms);
  for (let i = 0; i < 20; i++) await served.get(`/script?n=${n}&mode=cached`);
  const cached = await pairs(served, () => `/script?n=${n}&mode=cached`, empty, SCRIPT_CACHED_CALLS);
  const copy = await pairs(served, () => `/script?n=${n}&mode=json`, empty, SCRIPT_CACHED_CALLS);
  return { n, first, firstInWorker, cached, copy };
}

const fmt = (n: number) => n.toLocaleString("en-US");

function chainSection(sizes: SizeResult[]): BenchSection {
  const atTarget = sizes.find((size) => size.n === TARGET_SERVERS) as SizeResult;
  const targetP99 = percentile(atTarget.ticked, 99);
  const overShare = atTarget.overOneMs / atTarget.ticked.length;
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const pct = (count: number, total: number) => `${count} (${round((100 * count) / total, 2)} %)`;
  return {
    title: "Chain evaluation in workerd (default chain, built-in steps)",
    setup:
      "bench Worker (bench/balancing/chain-eval-worker.ts) importing src/balancer, bundled with esbuild, one workerd via Miniflare, 2-core machine shared with the client; " +
      "DEFAULT_POLICY (resume, require, allowed-users, capacity, least-loaded) over prebuilt server views (5 sessions, maxSessions 40, a user with no sessions, so every step runs and capacity keeps all). " +
      "workerd's clocks tick in whole ms (locally they do advance during synchronous code), so each evaluation is timed inside workerd from a tick edge: spin one full tick (calibration), evaluate, " +
      "read the whole ticks elapsed, spin to the next tick and one more full tick; duration = ticks + 1 − (reads to the next tick / reads in the full tick); samples whose calibration ticks differ by > 10 % are retaken. " +
      "'≥ 1 ms' counts evaluations that crossed a tick from an edge start: exact, no interpolation (the check uses it). " +
      "Cross-checks: 'batch mean' = k back-to-back evaluations on workerd's clock / k; 'per request' = one evaluation per HTTP request from Node minus the median of an interleaved identical request without it (includes loopback jitter, an upper bound)",
    columns: ["servers", "evaluations", "p50 ms", "p99 ms", "max ms", "mean ms", "≥ 1 ms", "batch mean ms (k)", "per request p50 / p99 ms"],
    rows: sizes.map((size) => [
      fmt(size.n),
      size.ticked.length,
      round(percentile(size.ticked, 50), 3),
      round(percentile(size.ticked, 99), 3),
      round(Math.max(...size.ticked), 3),
      round(mean(size.ticked), 3),
      pct(size.overOneMs, size.ticked.length),
      `${round(size.batchMeanMs, 3)} (${size.batchK})`,
      `${round(percentile(size.timed.samples, 50), 3)} / ${round(percentile(size.timed.samples, 99), 3)}`,
    ]),
    checks: [
      {
        name: `chain p99 ≤ ${TARGET_P99_MS} ms at ${fmt(TARGET_SERVERS)} servers (in workerd)`,
        pass: overShare <= 0.01,
        detail:
          `${pct(atTarget.overOneMs, atTarget.ticked.length)} of ${atTarget.ticked.length} evaluations took ≥ 1 ms (at most 1 % allowed); ` +
          `interpolated p50 ${round(percentile(atTarget.ticked, 50), 3)} ms, p99 ${round(targetP99, 3)} ms; batch mean ${round(atTarget.batchMeanMs, 3)} ms; ${atTarget.retries} samples retaken`,
      },
    ],
  };
}

function scriptSection(scripts: ScriptResult[]): BenchSection {
  const row = (n: number, call: string, timed: Timed, inWorker: string) => [
    fmt(n),
    call,
    timed.samples.length,
    round(percentile(timed.samples, 50), 3),
    round(percentile(timed.samples, 99), 3),
    inWorker,
  ];
  return {
    title: "Script step overhead (Worker Loader sandbox)",
    setup:
      "same bench Worker; createScriptRunner(env.LOADER) running a pick-the-emptiest script (one loop over input.servers) on the chain's input of n server views. " +
      "'first call': a source never seen before (a unique comment), so the runner parses and instruments it and the loader starts a new isolate; 'cached': one source again and again; " +
      "'input copy only': just the JSON round trip the runner makes of the input. Timed from Node, one call per HTTP request minus the median of an interleaved request without the call; " +
      "the last column is workerd's own 1 ms clock",
    columns: ["servers in input", "call", "calls", "p50 ms", "p99 ms", "in-worker p50 ms"],
    rows: scripts.flatMap((script) => [
      row(script.n, "first call (new isolate)", script.first, String(round(percentile(script.firstInWorker, 50), 0))),
      row(script.n, "cached isolate", script.cached, "(1 ms ticks)"),
      row(script.n, "input copy only", script.copy, "(1 ms ticks)"),
    ]),
    checks: scripts.map((script) => ({
      name: `cached script calls reuse the isolate (${fmt(script.n)} servers: cached p50 < first-call p50)`,
      pass: percentile(script.cached.samples, 50) < percentile(script.first.samples, 50),
      detail: `cached p50 ${round(percentile(script.cached.samples, 50), 3)} ms, first call p50 ${round(percentile(script.first.samples, 50), 2)} ms`,
    })),
  };
}

export async function runChainEvalBench(): Promise<BenchSection[]> {
  const served = await serve();
  try {
    const sizes: SizeResult[] = [];
    for (const n of SIZES) sizes.push(await measureSize(served, n));
    const scripts: ScriptResult[] = [];
    for (const n of SCRIPT_SIZES) scripts.push(await measureScript(served, n));
    return [chainSection(sizes), scriptSection(scripts)];
  } finally {
    await served.dispose();
  }
}
