/**
 * Saving a pool's balancing policy: validated before anything changes (schema, script syntax,
 * and a dry run against the live servers), then written to D1 and the pool object.
 */
import type { Policy } from "../balancer/policy.ts";
import { BrokerError } from "../core/errors.ts";
import { updatePoolPolicy } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { existingPool, type PoolStub } from "../pool/pool-gateway.ts";
import { type DryRunAnswer, dryRunAnswer, type SelectRequest } from "../pool/select-request.ts";
import { validateScriptSource } from "../sandbox/script-runner.ts";

export type DryRunRequest = Omit<SelectRequest, "policy" | "dryRun">;

/** A user no site has: what the save-time dry run balances for when the admin names nobody. */
export const DRY_RUN_USER: DryRunRequest = {
  action: "session/start",
  user: { login: "policy-dry-run", groups: [], isAdmin: false, isManager: false },
  local: {},
  data: {},
};

/** A script step that fails the sandbox's save-time check; `message` ends with its position when known. */
export interface ScriptProblem {
  index: number;
  name: string;
  message: string;
}

export function scriptProblems(policy: Policy | null): ScriptProblem[] {
  return (policy?.steps ?? []).flatMap((step, index) => {
    if (!("script" in step)) return [];
    const verdict = validateScriptSource(step.script);
    if (verdict.ok) return [];
    const where = verdict.line === undefined ? "" : ` (line ${verdict.line}, column ${verdict.column ?? 0})`;
    return [{ index, name: step.name ?? `script #${index + 1}`, message: `${verdict.message}${where}` }];
  });
}

/**
 * The save-time dry run of a policy (on the pool, or on a profile's hosts): null when it passes
 * or fails only for "no server available" (an empty pool is not the policy's fault).
 */
export async function dryRunProblem(stub: PoolStub, policy: Policy, hostnames?: string[]): Promise<string | null> {
  const outcome = await stub.select({ ...DRY_RUN_USER, policy, dryRun: true, ...(hostnames ? { hostnames } : {}) });
  if (outcome.ok || outcome.error.code === "NO_SERVER_AVAILABLE") return null;
  return `the policy failed its dry run (${outcome.error.code}): ${outcome.error.message}`;
}

/** Runs a policy (or the pool's own) without reserving or logging anything. */
export async function dryRun(env: Env, pool: string, request: DryRunRequest & { policy?: SelectRequest["policy"] }): Promise<DryRunAnswer> {
  return dryRunAnswer(await (await existingPool(env, pool)).select({ ...request, dryRun: true }));
}

/**
 * Validates and stores a policy (null restores the default chain). A dry run that fails for any
 * reason but "no server available" (an empty pool is not the policy's fault) refuses the save.
 */
export async function savePolicy(env: Env, pool: string, policy: Policy | null, request: DryRunRequest): Promise<{ policy: Policy | null; dryRun: DryRunAnswer | null }> {
  const stub = await existingPool(env, pool);
  let outcome: DryRunAnswer | null = null;
  if (policy !== null) {
    const [broken] = scriptProblems(policy);
    if (broken) throw new BrokerError("BAD_REQUEST", `step ${broken.index + 1} (${broken.name}): ${broken.message}`);
    outcome = dryRunAnswer(await stub.select({ ...request, policy, dryRun: true }));
    if (!outcome.ok && outcome.code !== "NO_SERVER_AVAILABLE") {
      throw new BrokerError("BAD_REQUEST", `the policy failed its dry run (${outcome.code}): ${outcome.message}`);
    }
  }
  await updatePoolPolicy(env.DB, pool, policy === null ? null : JSON.stringify(policy));
  await stub.setPolicy(policy);
  return { policy, dryRun: outcome };
}
