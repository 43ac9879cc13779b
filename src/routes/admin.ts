/** The admin API (the ADMIN_TOKEN bearer, or a signed-in admin user): pools, enrolment tokens, servers, policies. */
import { Hono } from "hono";
import { z } from "zod";
import { requireAdminIdentity } from "../auth/user-auth.ts";
import { listPools } from "../db/queries.ts";
import type { AppEnv } from "../env.ts";
import { removeNode, setDraining, setStaticOverrides } from "../cluster/nodes.ts";
import { createPool, issueEnrolmentToken, setPoolInterval } from "../cluster/pools.ts";
import { existingPool, requirePool } from "../pool/pool-gateway.ts";
import { unwrapPool } from "../pool/pool-failure.ts";
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  MAX_HEARTBEAT_INTERVAL_MS,
  MIN_HEARTBEAT_INTERVAL_MS,
  poolNameSchema,
  serverIdSchema,
  staticDataSchema,
} from "../protocol.ts";
import { policySchema } from "../balancer/policy.ts";
import { DRY_RUN_USER, dryRun, savePolicy } from "../cluster/policies.ts";
import { clientLocal } from "../core/request-context.ts";
import { selectBodySchema } from "../sessions/placement-request.ts";
import { validate } from "../core/validation.ts";

export const intervalMsSchema = z.number().int().min(MIN_HEARTBEAT_INTERVAL_MS).max(MAX_HEARTBEAT_INTERVAL_MS);
export const poolParam = z.object({ pool: poolNameSchema });
export const serverParam = z.object({ pool: poolNameSchema, serverId: serverIdSchema });
export const createPoolBodySchema = z.object({ name: poolNameSchema, intervalMs: intervalMsSchema.optional() }).strict();
export const updatePoolBodySchema = z.object({ intervalMs: intervalMsSchema }).strict();
export const putPolicyBodySchema = z.strictObject({ policy: policySchema.nullable(), dryRun: selectBodySchema.optional() });
export const dryRunBodySchema = selectBodySchema.extend({ policy: policySchema.optional() });
export const decisionsQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });
export const enrolmentTokenBodySchema = z.object({ ttlSeconds: z.number().int().min(60).max(7 * 24 * 3600).default(3600) }).strict();
export const staticDataBodySchema = z.object({ staticData: staticDataSchema }).strict();

export const adminRoutes = new Hono<AppEnv>()
  .use(requireAdminIdentity)
  .get("/pools", async (c) => c.json({ pools: await listPools(c.env.DB) }))
  .post(
    "/pools",
    validate("json", createPoolBodySchema),
    async (c) => {
      const { name, intervalMs } = c.req.valid("json");
      const defaultIntervalMs = Number(c.env.DEFAULT_INTERVAL_MS) || DEFAULT_HEARTBEAT_INTERVAL_MS;
      return c.json(await createPool(c.env, name, intervalMs ?? defaultIntervalMs, Date.now()), 201);
    },
  )
  .get("/pools/:pool", validate("param", poolParam), async (c) => c.json(await requirePool(c.env, c.req.valid("param").pool)))
  .patch("/pools/:pool", validate("param", poolParam), validate("json", updatePoolBodySchema), async (c) =>
    c.json(await setPoolInterval(c.env, c.req.valid("param").pool, c.req.valid("json").intervalMs)),
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
    async (c) => c.json(await issueEnrolmentToken(c.env, c.req.valid("param").pool, c.req.valid("json").ttlSeconds, Date.now()), 201),
  )
  .get("/pools/:pool/servers", validate("param", poolParam), async (c) => {
    return c.json({ servers: await (await existingPool(c.env, c.req.valid("param").pool)).listServers() });
  })
  .get("/pools/:pool/servers/:serverId", validate("param", serverParam), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    return c.json(unwrapPool(await (await existingPool(c.env, pool)).getServer(serverId), serverId));
  })
  .post("/pools/:pool/servers/:serverId/drain", validate("param", serverParam), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    return c.json(await setDraining(c.env, pool, serverId, true));
  })
  .post("/pools/:pool/servers/:serverId/undrain", validate("param", serverParam), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    return c.json(await setDraining(c.env, pool, serverId, false));
  })
  .put(
    "/pools/:pool/servers/:serverId/static-data",
    validate("param", serverParam),
    validate("json", staticDataBodySchema),
    async (c) => {
      const { pool, serverId } = c.req.valid("param");
      return c.json(await setStaticOverrides(c.env, pool, serverId, c.req.valid("json").staticData));
    },
  )
  .delete("/pools/:pool/servers/:serverId", validate("param", serverParam), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    await removeNode(c.env, pool, serverId);
    return c.body(null, 204);
  });
