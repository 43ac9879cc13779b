/**
 * Pools and their policy chains: list and create pools; edit a policy (saved through
 * `savePolicy`, the function behind `PUT /v1/admin/pools/:pool/policy`, so the same validation
 * and the same error messages); dry-run a draft with the pool object's `select`.
 */
import { Hono } from "hono";
import { z } from "zod";
import { type Policy, type PolicyInput, policySchema } from "../../balancer/policy.ts";
import { DEFAULT_POLICY } from "../../balancer/policy.ts";
import { listPools } from "../../db/queries.ts";
import { BrokerError } from "../../core/errors.ts";
import { originPatternsSchema } from "../../cluster/origin-policy.ts";
import { createPool, type PoolSettingsInput, poolView, updatePool } from "../../cluster/pools.ts";
import { existingPool, poolStub } from "../../pool/pool-gateway.ts";
import { DRY_RUN_USER, type DryRunRequest, dryRun, savePolicy } from "../../cluster/policies.ts";
import type { DryRunAnswer } from "../../pool/select-request.ts";
import { MAX_HEARTBEAT_INTERVAL_MS, MIN_HEARTBEAT_INTERVAL_MS, poolNameSchema } from "../../protocol.ts";
import { clientLocal } from "../../core/request-context.ts";
import { selectBodySchema } from "../../sessions/placement-request.ts";
import { parseOrThrow, validate } from "../../core/validation.ts";
import { noticeText } from "../components/forms.tsx";
import type { HostNames } from "../components/trace.tsx";
import { splitList } from "../format.ts";
import { PolicyPage, type PolicyFormValues } from "../pages/policy.tsx";
import { type PoolSummary, PoolsPage } from "../pages/pools.tsx";
import { jsonField, readForm, render, type UiContext, type UiEnv } from "../ui-env.ts";

const poolParam = z.object({ pool: poolNameSchema });
const settingsForm = z.object({
  intervalSeconds: z.coerce.number().int().min(MIN_HEARTBEAT_INTERVAL_MS / 1000).max(MAX_HEARTBEAT_INTERVAL_MS / 1000),
  originPatterns: z
    .string()
    .max(16_384)
    .default("")
    .transform((text) => splitList(text.replaceAll("\n", ",")))
    .pipe(originPatternsSchema),
  /** Checkboxes: present ("yes") when ticked. */
  allowPrivateOrigins: z.literal("yes").optional(),
  requireApproval: z.literal("yes").optional(),
});
const createPoolForm = settingsForm.extend({ name: poolNameSchema });

function settingsOf(form: z.infer<typeof settingsForm>): PoolSettingsInput & { intervalMs: number } {
  return {
    intervalMs: form.intervalSeconds * 1000,
    originPatterns: form.originPatterns,
    allowPrivateOrigins: form.allowPrivateOrigins === "yes",
    requireApproval: form.requireApproval === "yes",
  };
}
const policyForm = z.object({
  policy: z.string().max(1024 * 1024).default(""),
  login: z.string().trim().max(256).default(""),
  groups: z.string().max(16_384).default(""),
  action: z.enum(["session/start", "user/login"]).default("session/start"),
  data: z.string().max(65_536).default(""),
});

/** The pool's stored policy as the admin wrote it (the RPC answer loses its static type). */
async function storedPolicy(c: UiContext, pool: string): Promise<PolicyInput | null> {
  return (await poolStub(c.env, pool).getPolicy()) as PolicyInput | null;
}

/** serverId → hostname for a pool's traces. */
export async function hostNames(c: UiContext, pool: string): Promise<HostNames> {
  return new Map((await poolStub(c.env, pool).listServers()).map((server) => [server.serverId, server.hostname]));
}

function policyText(policy: PolicyInput | null): string {
  return policy === null ? "" : JSON.stringify(policy, null, 2);
}

/** The editor's text as a policy: "" is null (the default chain); otherwise JSON through `policySchema`. */
function parsePolicy(text: string): Policy | null {
  const value = jsonField(text, "the policy", null);
  return value === null ? null : parseOrThrow(policySchema, value, "policy");
}

/** Who the dry run balances for: the form's user and data, or `DRY_RUN_USER` when both are blank. */
function dryRunRequest(c: UiContext, values: PolicyFormValues): DryRunRequest {
  if (values.login === "" && values.groups.trim() === "" && values.data.trim() === "") return DRY_RUN_USER;
  const body = parseOrThrow(
    selectBodySchema,
    {
      action: values.action,
      user: { login: values.login || DRY_RUN_USER.user.login, groups: splitList(values.groups) },
      data: jsonField(values.data, "the request data", {}),
    },
    "dry run",
  );
  return { ...body, local: clientLocal(c.get("clientIp")) };
}

async function policyPage(c: UiContext, pool: string, values: PolicyFormValues, extra: { notice?: string; error?: string; outcome?: DryRunAnswer | null }, status: 200 | 400 = 200) {
  const page = (
    <PolicyPage
      session={c.get("ui")}
      pool={pool}
      values={values}
      defaultPolicy={JSON.stringify(DEFAULT_POLICY)}
      notice={extra.notice}
      error={extra.error}
      outcome={extra.outcome}
      names={await hostNames(c, pool)}
    />
  );
  return render(c, page, status);
}

/** Runs `work`; a 400 `BAD_REQUEST` (invalid JSON, schema, script syntax, failed dry run) re-renders the editor with the message. */
async function withEditor(c: UiContext, pool: string, values: PolicyFormValues, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BrokerError && error.code === "BAD_REQUEST") return policyPage(c, pool, values, { error: error.message }, 400);
    throw error;
  }
}

export const poolUiRoutes = new Hono<UiEnv>()
  .get("/pools", validate("query", z.object({ notice: z.string().max(32).optional() })), async (c) => {
    const pools = await listPools(c.env.DB);
    const summaries: PoolSummary[] = await Promise.all(
      pools.map(async (pool) => {
        const servers = await poolStub(c.env, pool.name).listServers();
        const policy = await storedPolicy(c, pool.name);
        return {
          ...poolView(pool),
          steps: policy === null ? null : policy.steps.map((step, index) => step.use ?? step.name ?? `script #${index + 1}`),
          serversUp: servers.filter((server) => server.status !== "down").length,
          serversTotal: servers.length,
        };
      }),
    );
    return render(c, <PoolsPage session={c.get("ui")} pools={summaries} notice={noticeText(c.req.valid("query").notice)} />);
  })
  .post("/pools", async (c) => {
    const { name, ...form } = await readForm(c, createPoolForm);
    await createPool(c.env, name, settingsOf(form), Date.now());
    return c.redirect("/admin/pools?notice=pool-created", 303);
  })
  .post("/pools/:pool/settings", validate("param", poolParam), async (c) => {
    await updatePool(c.env, c.req.valid("param").pool, settingsOf(await readForm(c, settingsForm)));
    return c.redirect("/admin/pools?notice=pool-updated", 303);
  })
  .get("/pools/:pool", validate("param", poolParam), async (c) => {
    const { pool } = c.req.valid("param");
    await existingPool(c.env, pool);
    const values: PolicyFormValues = { policy: policyText(await storedPolicy(c, pool)), login: "", groups: "", action: "session/start", data: "" };
    return policyPage(c, pool, values, {});
  })
  .post("/pools/:pool/policy", validate("param", poolParam), async (c) => {
    const { pool } = c.req.valid("param");
    await existingPool(c.env, pool);
    const values = await readForm(c, policyForm);
    return withEditor(c, pool, values, async () => {
      const saved = await savePolicy(c.env, pool, parsePolicy(values.policy), dryRunRequest(c, values));
      const notice = saved.policy === null ? "Saved: the pool uses the default chain." : "Policy validated and saved.";
      return policyPage(c, pool, { ...values, policy: policyText(saved.policy) }, { notice, outcome: saved.dryRun });
    });
  })
  .post("/pools/:pool/dry-run", validate("param", poolParam), async (c) => {
    const { pool } = c.req.valid("param");
    await existingPool(c.env, pool);
    const values = await readForm(c, policyForm);
    return withEditor(c, pool, values, async () => {
      const policy = parsePolicy(values.policy) ?? DEFAULT_POLICY;
      const outcome = await dryRun(c.env, pool, { ...dryRunRequest(c, values), policy });
      return policyPage(c, pool, values, { outcome });
    });
  });
