/**
 * Saving a pool's balancing policy: validated before anything changes (schema, script syntax,
 * and a dry run against the live servers), then written to D1 and the pool object.
 */
import type { Policy } from "../balancer/policy.ts";
import { validateScriptSource } from "../sandbox/script-runner.ts";
import { updatePoolPolicy } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import { poolStub, requirePool } from "./membership.ts";
import type { SelectOutcome, SelectRequest } from "../pool/select-request.ts";

export type DryRunRequest = Omit<SelectRequest, "policy" | "dryRun">;

/** A user no site has: what the save-time dry run balances for when the admin names nobody. */
export const DRY_RUN_USER: DryRunRequest = {
  action: "session/start",
  user: { login: "policy-dry-run", groups: [], isAdmin: false, isManager: false },
  local: {},
  data: {},
};

function checkScripts(policy: Policy): void {
  for (const [index, step] of policy.steps.entries()) {
    if (!("script" in step)) continue;
    const verdict = validateScriptSource(step.script);
    if (!verdict.ok) {
      const where = verdict.line === undefined ? "" : ` (line ${verdict.line}, column ${verdict.column ?? 0})`;
      throw new BrokerError("BAD_REQUEST", `step ${index + 1} (${step.name ?? `script #${index + 1}`}): ${verdict.message}${where}`);
    }
  }
}

/**
 * Validates and stores a policy (null restores the default chain). A dry run that fails for any
 * reason but "no server available" (an empty pool is not the policy's fault) refuses the save.
 */
export async function savePolicy(env: Env, pool: string, policy: Policy | null, dryRun: DryRunRequest): Promise<{ policy: Policy | null; dryRun: SelectOutcome | null }> {
  await requirePool(env, pool);
  const stub = poolStub(env, pool);
  let outcome: SelectOutcome | null = null;
  if (policy !== null) {
    checkScripts(policy);
    outcome = await stub.select({ ...dryRun, policy, dryRun: true });
    if (!outcome.ok && outcome.code !== "NO_SERVER_AVAILABLE") {
      throw new BrokerError("BAD_REQUEST", `the policy failed its dry run (${outcome.code}): ${outcome.message}`);
    }
  }
  const json = policy === null ? null : JSON.stringify(policy);
  await updatePoolPolicy(env.DB, pool, json);
  await stub.setPolicy(policy);
  return { policy, dryRun: outcome };
}

/** Turns a failed selection into the broker's error (the trace stays in the decision log). */
export function selectionError(outcome: Extract<SelectOutcome, { ok: false }>): BrokerError {
  return new BrokerError(outcome.code, outcome.message);
}
