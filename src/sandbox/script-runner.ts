/**
 * Runs admin-written balancing steps (FastX form `function (input) { … }`) in sandboxed isolates
 * from the Worker Loader binding (`env.LOADER`): Workers forbid eval, and a loaded isolate has no
 * network (`globalOutbound: null`), no bindings and a CPU limit.
 *
 * Contract of the runner returned by `createScriptRunner(loader, options)`:
 * - `runScript(source, input, limits?)` resolves to whatever the script returned (possibly a
 *   promise's value), unvalidated: the chain runner checks it is a serverId, server objects or
 *   falsy. `limits.timeoutMs` shortens this call's wall-clock limit (the chain passes what is left
 *   of its selection's budget); the runner's own `timeoutMs` is never exceeded.
 * - `input` crosses as JSON data (round-tripped through JSON, so functions or stubs never reach
 *   the script and the script never sees the caller's objects).
 * - Every failure is a `ScriptError` whose `kind` says what happened:
 *   - "syntax": refused by `validateScriptSource` (not a single function expression, syntax
 *     error, over 64 KiB, mentions `__tick`, uses `import`) or the isolate failed to start;
 *   - "timeout": wall clock (`timeoutMs`, default 1000, or the call's shorter limit) elapsed,
 *     the iteration budget ran out (`iterationBudget` loop iterations plus function calls,
 *     default 5,000,000, reset per call; this is the guard that works locally, where workerd
 *     does not enforce `cpuMs`), the CPU limit was hit (`cpuMs`, default 50, enforced in
 *     production), or the runtime saw the script await something that can never settle;
 *   - "threw": the script threw; `message` is the script's own message, without a stack;
 *   - "failed": anything else (input not JSON, result not cloneable, loader unavailable).
 *   Every message is clipped (`clipMessage`): the script controls what it throws.
 * - Isolates are cached by the loader under `policy:<sha256 of module code and limits>`, so the
 *   same source (with the same options) reuses a warm isolate and different sources never collide.
 * A timed-out call is abandoned, not stopped: a CPU-bound script is stopped by the budget (or the
 * CPU limit), but a script looping over timers keeps its isolate busy in the background.
 */
import type { ScriptCallLimits } from "../balancer/chain.ts";
import { clipMessage } from "../core/clip.ts";
import { sha256Hex } from "../core/crypto.ts";
import { COMPATIBILITY_DATE } from "../core/runtime.ts";
import { type InstrumentResult, instrumentScript, ITERATION_BUDGET_MESSAGE, TICK } from "./loop-guard.ts";

export const MAX_SOURCE_BYTES = 64 * 1024;
const DEFAULTS = { cpuMs: 50, timeoutMs: 1000, iterationBudget: 5_000_000 };
/** Prepared modules kept per runner, keyed by source (parsing 64 KiB costs a few ms). */
const PREPARED_CACHE_SIZE = 128;

export type ScriptErrorKind = "syntax" | "timeout" | "threw" | "failed";

export class ScriptError extends Error {
  override name = "ScriptError";
  readonly kind: ScriptErrorKind;
  constructor(kind: ScriptErrorKind, message: string, options?: ErrorOptions) {
    super(clipMessage(message), options);
    this.kind = kind;
  }
}

export interface ScriptRunnerOptions {
  cpuMs?: number;
  timeoutMs?: number;
  iterationBudget?: number;
}

export type ScriptRunner = (source: string, input: unknown, limits?: ScriptCallLimits) => Promise<unknown>;

/** The save-time check (pure): size, FastX form, syntax, reserved names. */
export function validateScriptSource(source: string): { ok: true } | { ok: false; message: string; line?: number; column?: number } {
  const result = instrumentChecked(source);
  return result.ok ? { ok: true } : { ...result, message: clipMessage(result.message) };
}

function instrumentChecked(source: string): InstrumentResult {
  if (typeof source !== "string") return { ok: false, message: "the script must be a string" };
  const bytes = new TextEncoder().encode(source).byteLength;
  if (bytes > MAX_SOURCE_BYTES) return { ok: false, message: `the script is ${bytes} bytes; the limit is ${MAX_SOURCE_BYTES}` };
  return instrumentScript(source);
}

interface PolicyEntrypoint {
  decide(input: unknown): Promise<unknown>;
}

interface Prepared {
  id: string;
  code: WorkerLoaderWorkerCode;
}

export function createScriptRunner(loader: WorkerLoader, options: ScriptRunnerOptions = {}): ScriptRunner {
  const cpuMs = positiveInteger("cpuMs", options.cpuMs ?? DEFAULTS.cpuMs);
  const timeoutMs = positiveInteger("timeoutMs", options.timeoutMs ?? DEFAULTS.timeoutMs);
  const budget = positiveInteger("iterationBudget", options.iterationBudget ?? DEFAULTS.iterationBudget);
  const prepared = new Map<string, Promise<Prepared>>();

  async function prepare(source: string): Promise<Prepared> {
    const instrumented = instrumentChecked(source);
    if (!instrumented.ok) throw new ScriptError("syntax", instrumented.message);
    const code: WorkerLoaderWorkerCode = {
      compatibilityDate: COMPATIBILITY_DATE,
      mainModule: "policy.js",
      modules: { "policy.js": policyModule(instrumented.code, budget) },
      globalOutbound: null,
      limits: { cpuMs },
    };
    return { id: `policy:${await sha256Hex(JSON.stringify(code))}`, code };
  }

  return async function runScript(source: string, input: unknown, limits: ScriptCallLimits = {}): Promise<unknown> {
    let entry = prepared.get(source);
    if (entry === undefined) {
      entry = prepare(source);
      if (prepared.size >= PREPARED_CACHE_SIZE) prepared.delete(prepared.keys().next().value as string);
      prepared.set(source, entry);
    }
    const { id, code } = await entry;

    let data: unknown;
    try {
      data = input === undefined ? undefined : JSON.parse(JSON.stringify(input));
    } catch (error) {
      throw new ScriptError("failed", `the script input is not JSON data: ${messageOf(error)}`, { cause: error });
    }

    const callTimeoutMs = Math.max(0, Math.min(timeoutMs, limits.timeoutMs ?? timeoutMs));
    let timer: ReturnType<typeof setTimeout> | null = null;
    const timeout = new Promise<never>((_, reject) => {
      const message = `script did not finish within ${Math.ceil(callTimeoutMs)} ms`;
      timer = setTimeout(() => reject(new ScriptError("timeout", message)), callTimeoutMs);
    });
    try {
      const entrypoint = loader.get(id, () => code).getEntrypoint() as unknown as PolicyEntrypoint;
      return await Promise.race([entrypoint.decide(data), timeout]);
    } catch (error) {
      throw classify(error);
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
  };
}

/**
 * The isolate's only module. Every wrapper binding starts with `__tick`, a prefix the loop guard
 * refuses in admin sources, so the script cannot reach the counter or the entrypoint. Once the
 * budget is exceeded every tick throws, so catching the error inside a loop does not help, and
 * `decide` re-checks after the script returns in case it swallowed the error.
 */
function policyModule(code: string, budget: number): string {
  const fail = `throw new Error(${JSON.stringify(ITERATION_BUDGET_MESSAGE)})`;
  return [
    `import { WorkerEntrypoint as ${TICK}Entrypoint } from "cloudflare:workers";`,
    `let ${TICK}Count = 0;`,
    `function ${TICK}() { if (++${TICK}Count > ${budget}) ${fail}; }`,
    `const ${TICK}Policy = (`,
    code,
    `);`,
    `export default class extends ${TICK}Entrypoint {`,
    `  async decide(input) {`,
    `    ${TICK}Count = 0;`,
    `    const result = await ${TICK}Policy(input);`,
    `    if (${TICK}Count > ${budget}) ${fail};`,
    `    return result;`,
    `  }`,
    `}`,
    ``,
  ].join("\n");
}

function classify(error: unknown): ScriptError {
  if (error instanceof ScriptError) return error;
  const message = messageOf(error);
  const remote = typeof error === "object" && error !== null && (error as { remote?: unknown }).remote === true;
  if (message === ITERATION_BUDGET_MESSAGE) return new ScriptError("timeout", message);
  if (/exceeded CPU time/i.test(message)) return new ScriptError("timeout", "script exceeded its CPU time limit");
  if (/code had hung/.test(message)) return new ScriptError("timeout", "script hung: it awaits something that can never complete");
  if (message.startsWith("Failed to start Worker")) {
    // Drop the position: it points into the wrapper module, not the admin's source.
    const detail = message.replace(/^Failed to start Worker:\s*/, "").replace(/\s+at policy\.js:\d+:\d+\s*$/, "");
    return new ScriptError("syntax", `script failed to start: ${detail}`);
  }
  if (remote && (error as { name?: unknown }).name === "DataCloneError") {
    return new ScriptError("failed", `script returned a value that cannot be transferred: ${message}`);
  }
  if (remote) return new ScriptError("threw", message);
  return new ScriptError("failed", message, { cause: error });
}

/** The message of an Error, or a short description of a thrown non-Error value. */
function messageOf(error: unknown): string {
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  if (typeof error === "string") return error;
  let text: string;
  try {
    const { remote: _, ...rest } = (typeof error === "object" && error !== null ? error : { value: error }) as Record<string, unknown>;
    text = JSON.stringify(rest) ?? String(error);
  } catch {
    text = String(error);
  }
  return `script threw a non-Error value: ${clipMessage(text, 200)}`;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
