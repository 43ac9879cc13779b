/** The admin API (the ADMIN_TOKEN bearer, or a signed-in admin user): pools, their settings and policies, enrolment tokens. Servers: ./servers.ts. */
import { Hono } from "hono";
import { z } from "zod";
import { requireAdminIdentity } from "../auth/user-auth.ts";
import { listPools } from "../db/queries.ts";
import { originPatternsSchema } from "../cluster/origin-policy.ts";
import type { AppEnv } from "../env.ts";
import { createPool, issueEnrolmentToken, poolView, updatePool } from "../cluster/pools.ts";
import { existingPool, requirePool } from "../pool/pool-gateway.ts";
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  MAX_HEARTBEAT_INTERVAL_MS,
  MIN_HEARTBEAT_INTERVAL_MS,
  poolNameSchema,
  serverIdSchema,
} from "../protocol.ts";
import { policySchema } from "../balancer/policy.ts";
import { DRY_RUN_USER, dryRun, savePolicy } from "../cluster/policies.ts";
import { clientLocal } from "../core/request-context.ts";
import { selectBodySchema } from "../sessions/placement-request.ts";
import { validate } from "../core/validation.ts";

export const intervalMsSchema = z.number().int().min(MIN_HEARTBEAT_INTERVAL_MS).max(MAX_HEARTBEAT_INTERVAL_MS);
export const poolParam = z.object({ pool: poolNameSchema });
export const serverParam = z.object({ pool: poolNameSchema, serverId: serverIdSchema });
const poolSettingsShape = {
  intervalMs: intervalMsSchema.optional(),
  /** Hostname patterns node origins must match (`*.nodes.example.com`); none allowed until set. */
  originPatterns: originPatternsSchema.optional(),
  /** Allow loopback, private and IP-literal origins (local runs and tests only). Default false. */
  allowPrivateOrigins: z.boolean().optional(),
  /** New nodes wait for an admin's approval. Default true. */
  requireApproval: z.boolean().optional(),
  /** Logon-storm admission (Horizon's connectingSessionThreshold): new sessions one node may have starting at once; null: no cap. Resumes are exempt. */
  maxStartingPerNode: z.number().int().min(1).max(1000).nullable().optional(),
};
export const createPoolBodySchema = z.strictObject({ name: poolNameSchema, ...poolSettingsShape });
export const updatePoolBodySchema = z
  .strictObject(poolSettingsShape)
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), "name at least one setting to change");
export const putPolicyBodySchema = z.strictObject({ policy: policySchema.nullable(), dryRun: selectBodySchema.optional() });
export const dryRunBodySchema = selectBodySchema.extend({ policy: policySchema.optional() });
export const decisionsQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });
export const enrolmentTokenBodySchema = z.strictObject({
  ttlSeconds: z.number().int().min(60).max(7 * 24 * 3600).default(3600),
  /** A node enrolled with this token needs no approval (automated roll-outs). Default false. */
  preApproved: z.boolean().default(false),
});

export const adminRoutes = new Hono<AppEnv>()
  .use(requireAdminIdentity)
  .get("/pools", async (c) => c.json({ pools: (await listPools(c.env.DB)).map(poolView) }))
  .post(
    "/pools",
    validate("json", createPoolBodySchema),
    async (c) => {
      const { name, ...settings } = c.req.valid("json");
      const intervalMs = settings.intervalMs ?? (Number(c.env.DEFAULT_INTERVAL_MS) || DEFAULT_HEARTBEAT_INTERVAL_MS);
      return c.json(await createPool(c.env, name, { ...settings, intervalMs }, Date.now()), 201);
    },
  )
  .get("/pools/:pool", validate("param", poolParam), async (c) => c.json(poolView(await requirePool(c.env, c.req.valid("param").pool))))
  .patch("/pools/:pool", validate("param", poolParam), validate("json", updatePoolBodySchema), async (c) =>
    c.json(await updatePool(c.env, c.req.valid("param").pool, c.req.valid("json"))),
  )
  .get("/pools/:pool/policy", validate("param", poolParam), async (c) => {
    const policy = await (await existingPool(c.env, c.req.valid("param").pool)).getPolicy();
    return c.json({ policy, isDefault: policy === null });
  })
  .put(
    "/pools/:pool/policy",
    validate("param", poolParam),
    validate("json", putPolicyBodySchema),
    async (c) => {
      const { pool } = c.req.valid("param");
      const { policy, dryRun: asked } = c.req.valid("json");
      const request = asked ? { ...asked, local: clientLocal(c.get("clientIp")) } : DRY_RUN_USER;
      return c.json(await savePolicy(c.env, pool, policy, request));
    },
  )
  .post(
    "/pools/:pool/dry-run",
    validate("param", poolParam),
    validate("json", dryRunBodySchema),
    async (c) => {
      return c.json(await dryRun(c.env, c.req.valid("param").pool, { ...c.req.valid("json"), local: clientLocal(c.get("clientIp")) }));
    },
  )
  .get(
    "/pools/:pool/decisions",
    validate("param", poolParam),
    validate("query", decisionsQuerySchema),
    async (c) => {
      const stub = await existingPool(c.env, c.req.valid("param").pool);
      return c.json({ decisions: await stub.recentDecisions(c.req.valid("query").limit) });
    },
  )
  .post(
    "/pools/:pool/enrolment-tokens",
    validate("param", poolParam),
    validate("json", enrolmentTokenBodySchema),
    async (c) => c.json(await issueEnrolmentToken(c.env, c.req.valid("param").pool, c.req.valid("json"), Date.now()), 201),
  );
