/**
 * The chain runner (decision 4 in docs/decisions.md, FastX load balancing): prepares the candidate list, then
 * runs the policy's steps in order. A string answer chooses and stops; an array becomes the next
 * step's list; a falsy answer passes; a throw refuses the request with its message. Running out
 * of steps, or of servers, means "no server available".
 *
 * Pure apart from the injected `runScript`, which executes admin JavaScript in the caller's
 * sandbox; built-ins are synchronous. Never throws for a step's failure: every outcome is a
 * `ChainResult` whose `trace` records one entry per step run. Every message in it is clipped
 * (`clipMessage`), since scripts control what they throw and return.
 */
import { clipMessage } from "../core/clip.ts";
import { candidateServers } from "./candidates.ts";
import type { Policy, StepSpec } from "./policy.ts";
import { BUILTINS } from "./registry.ts";
import { sessionToResume } from "./resume-target.ts";
import type { StepContext, StepInput } from "./step.ts";
import { readBuiltinResult, readScriptResult, type Verdict } from "./step-result.ts";

/** A subset of the broker's `ErrorCode`: 422, 502 and 503 respectively. */
export type ChainErrorCode = "POLICY_REJECTED" | "POLICY_INVALID_RESULT" | "NO_SERVER_AVAILABLE";

export interface TraceEntry {
  /** The built-in's name, or the script's `name` (default `script #<position>`). */
  step: string;
  outcome: "chose" | "filtered" | "passed" | "threw" | "invalid";
  serverId?: string;
  /** For `filtered`: the serverIds handed to the next step, in order. */
  kept?: string[];
  message?: string;
  /** Only when the context has a clock. */
  durationMs?: number;
}

export type ChainResult =
  | { ok: true; serverId: string; reason: string; trace: TraceEntry[]; resumeSessionId?: string }
  | { ok: false; code: ChainErrorCode; message: string; trace: TraceEntry[] };

/** Limits the chain sets on one script call. */
export interface ScriptCallLimits {
  /** Wall-clock ms this call may take; the runner applies the smaller of this and its own timeout. */
  timeoutMs?: number;
}

/**
 * Runs one script step in the sandbox (`src/sandbox/script-runner.ts` `createScriptRunner` fits):
 * resolves with whatever the script returned, unvalidated. A rejection is the script refusing the
 * request (POLICY_REJECTED, an Error's message shown to the user), unless the error's `kind` is
 * "syntax", "timeout" or "failed" (the sandbox's `ScriptError`): then the script is broken, which
 * is the policy's fault, not the user's (POLICY_INVALID_RESULT).
 */
export type ScriptRunner = (source: string, input: StepInput, limits?: ScriptCallLimits) => Promise<unknown>;

export interface ChainContext extends StepContext {
  /** A monotonic millisecond clock (e.g. `performance.now`) to time steps; omit for no timing. */
  clock?: () => number;
  /**
   * Wall-clock ms all script steps of this run may take together (needs `clock`; omit for no
   * budget). Each call gets what is left as its timeout; a script step that finds none left, or
   * that is stopped when it runs out, fails the run with POLICY_INVALID_RESULT.
   */
  scriptBudgetMs?: number;
}

export const NO_SERVER_MESSAGE = "no server available";
const GENERIC_REJECTION = "the balancing policy refused the request";

/**
 * Chooses a server for `input.action`. `input.servers` may be the pool's full list: down servers,
 * draining servers without the user's sessions (see `candidateServers`) and the serverIds in
 * `data.avoid` (retries, HAProxy `srvtoavoid`) are removed before the first step.
 */
export async function runChain(
  policy: Policy,
  input: StepInput,
  ctx: ChainContext,
  runScript?: ScriptRunner,
): Promise<ChainResult> {
  const avoid = readAvoid(input.data);
  let servers = candidateServers(input.servers, input.action, input.user).filter(
    (server) => !avoid.has(server.serverId),
  );
  const trace: TraceEntry[] = [];
  if (servers.length === 0) return { ok: false, code: "NO_SERVER_AVAILABLE", message: NO_SERVER_MESSAGE, trace };
  const scripts = budgetedRunner(ctx, runScript);

  for (const [index, spec] of policy.steps.entries()) {
    const name = stepName(spec, index);
    const label = `step ${index + 1} (${name})`;
    const startedAt = ctx.clock?.();
    const timed = (entry: TraceEntry): TraceEntry =>
      startedAt === undefined || ctx.clock === undefined ? entry : { ...entry, durationMs: ctx.clock() - startedAt };

    let verdict: Verdict;
    try {
      verdict = await runStep(spec, { ...input, servers }, ctx, label, scripts);
    } catch (error) {
      const message = rejectionMessage(error);
      trace.push(timed({ step: name, outcome: "threw", message }));
      return { ok: false, code: "POLICY_REJECTED", message, trace };
    }

    switch (verdict.kind) {
      case "invalid": {
        const message = clipMessage(verdict.message);
        trace.push(timed({ step: name, outcome: "invalid", message }));
        return { ok: false, code: "POLICY_INVALID_RESULT", message, trace };
      }
      case "passed":
        trace.push(timed({ step: name, outcome: "passed" }));
        break;
      case "filtered":
        servers = verdict.servers;
        trace.push(timed({ step: name, outcome: "filtered", kept: servers.map((server) => server.serverId) }));
        if (servers.length === 0) {
          return { ok: false, code: "NO_SERVER_AVAILABLE", message: `${NO_SERVER_MESSAGE} (none left after ${label})`, trace };
        }
        break;
      case "chose": {
        trace.push(timed({ step: name, outcome: "chose", serverId: verdict.serverId }));
        const reason = verdict.reason ?? `${name} chose ${verdict.serverId}`;
        const resume = sessionToResume(input.user?.sessions ?? [], (serverId) => serverId === verdict.serverId);
        return resume === undefined
          ? { ok: true, serverId: verdict.serverId, reason, trace }
          : { ok: true, serverId: verdict.serverId, reason, trace, resumeSessionId: resume.id };
      }
    }
  }
  return { ok: false, code: "NO_SERVER_AVAILABLE", message: NO_SERVER_MESSAGE, trace };
}

/** The run's script runner with its budget applied: each call gets the time that is left. */
interface BudgetedRunner {
  /** Ms left for scripts; Infinity without a budget. */
  leftMs(): number;
  budgetMs: number | undefined;
  run: ScriptRunner;
}

function budgetedRunner(ctx: ChainContext, runScript: ScriptRunner | undefined): BudgetedRunner | undefined {
  if (runScript === undefined) return undefined;
  const { clock, scriptBudgetMs } = ctx;
  if (clock === undefined || scriptBudgetMs === undefined) return { leftMs: () => Number.POSITIVE_INFINITY, budgetMs: undefined, run: runScript };
  let spentMs = 0;
  return {
    leftMs: () => scriptBudgetMs - spentMs,
    budgetMs: scriptBudgetMs,
    run: async (source, input) => {
      const timeoutMs = scriptBudgetMs - spentMs;
      const startedAt = clock();
      try {
        return await runScript(source, input, { timeoutMs });
      } catch (error) {
        // Timers may fire a fraction early on a coarse clock: a timeout at what was left spends it all.
        if (isBrokenScript(error) && error.kind === "timeout" && clock() - startedAt >= timeoutMs - 1) spentMs = scriptBudgetMs;
        throw error;
      } finally {
        spentMs += clock() - startedAt;
      }
    },
  };
}

async function runStep(
  spec: StepSpec,
  input: StepInput,
  ctx: StepContext,
  label: string,
  scripts: BudgetedRunner | undefined,
): Promise<Verdict> {
  if ("use" in spec) {
    const built = BUILTINS[spec.use].build(spec.params);
    if (!built.ok) {
      const details = built.error.issues.map((issue) => issue.message).join("; ");
      return { kind: "invalid", message: `${label} has invalid params: ${details}` };
    }
    return readBuiltinResult(built.value(input, ctx), input.servers, label);
  }
  if (scripts === undefined) return { kind: "invalid", message: `${label} is a script, but no script runner is configured` };
  const budget = `the selection's time budget for scripts (${scripts.budgetMs} ms, all script steps together)`;
  if (scripts.leftMs() <= 0) return { kind: "invalid", message: `${label} was not run: ${budget} is spent` };
  let result: unknown;
  try {
    result = await scripts.run(spec.script, input);
  } catch (error) {
    if (!isBrokenScript(error)) throw error;
    if (error.kind === "timeout" && scripts.leftMs() <= 0) return { kind: "invalid", message: `${label} was stopped: ${budget} ran out` };
    return { kind: "invalid", message: `${label} failed: ${error.message}` };
  }
  return readScriptResult(result, input.servers, label);
}

const BROKEN_SCRIPT_KINDS: ReadonlySet<unknown> = new Set(["syntax", "timeout", "failed"]);

function isBrokenScript(error: unknown): error is Error & { kind: "syntax" | "timeout" | "failed" } {
  return error instanceof Error && BROKEN_SCRIPT_KINDS.has((error as Error & { kind?: unknown }).kind);
}

function stepName(spec: StepSpec, index: number): string {
  return "use" in spec ? spec.use : (spec.name ?? `script #${index + 1}`);
}

function readAvoid(data: Record<string, unknown> | undefined): Set<string> {
  const avoid = data?.["avoid"];
  if (!Array.isArray(avoid)) return new Set();
  return new Set(avoid.filter((id): id is string => typeof id === "string"));
}

function rejectionMessage(error: unknown): string {
  const message = error instanceof Error ? error.message.trim() : "";
  return message === "" ? GENERIC_REJECTION : clipMessage(message);
}
