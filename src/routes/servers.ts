/** The admin API for one pool's servers: live views, approval, drain, static data, re-key tokens, removal, and commands over their control channels. */
import { Hono } from "hono";
import { z } from "zod";
import { requireAdminIdentity } from "../auth/user-auth.ts";
import { DEFAULT_DISCONNECT_REASON, disconnectOnServer, pingServer } from "../cluster/node-commands.ts";
import { approveNode, removeNode, setDraining, setStaticOverrides } from "../cluster/nodes.ts";
import { issueEnrolmentToken } from "../cluster/pools.ts";
import { validate } from "../core/validation.ts";
import type { AppEnv } from "../env.ts";
import { unwrapPool } from "../pool/pool-failure.ts";
import { existingPool } from "../pool/pool-gateway.ts";
import { withoutDisplayCookies } from "../pool/server-view.ts";
import { staticDataSchema } from "../protocol.ts";
import { poolParam, serverParam } from "./admin.ts";

export const staticDataBodySchema = z.strictObject({ staticData: staticDataSchema });
export const rekeyTokenBodySchema = z.strictObject({ ttlSeconds: z.number().int().min(60).max(7 * 24 * 3600).default(3600) });
/** What the disconnected clients read as the close reason (a close frame holds at most 123 bytes). */
export const disconnectReasonSchema = z.string().trim().min(1).max(120).regex(/^[^\x00-\x1f\x7f]+$/, "a reason has no control characters");
/** `{ sessionId }` or `{ user }` (the broker login), and an optional reason. */
export const serverDisconnectBodySchema = z.union([
  z.strictObject({ sessionId: z.string().min(1).max(256), reason: disconnectReasonSchema.optional() }),
  z.strictObject({ user: z.string().min(1).max(256), reason: disconnectReasonSchema.optional() }),
]);

export const serverRoutes = new Hono<AppEnv>()
  .use(requireAdminIdentity)
  .get("/pools/:pool/servers", validate("param", poolParam), async (c) => {
    const servers = await (await existingPool(c.env, c.req.valid("param").pool)).listServers();
    return c.json({ servers: servers.map(withoutDisplayCookies) });
  })
  .get("/pools/:pool/servers/:serverId", validate("param", serverParam), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    return c.json(withoutDisplayCookies(unwrapPool(await (await existingPool(c.env, pool)).getServer(serverId), serverId)));
  })
  .post("/pools/:pool/servers/:serverId/approve", validate("param", serverParam), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    return c.json(await approveNode(c.env, pool, serverId));
  })
  .post("/pools/:pool/servers/:serverId/drain", validate("param", serverParam), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    return c.json(await setDraining(c.env, pool, serverId, true));
  })
  .post("/pools/:pool/servers/:serverId/undrain", validate("param", serverParam), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    return c.json(await setDraining(c.env, pool, serverId, false));
  })
  .put("/pools/:pool/servers/:serverId/static-data", validate("param", serverParam), validate("json", staticDataBodySchema), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    return c.json(await setStaticOverrides(c.env, pool, serverId, c.req.valid("json").staticData));
  })
  .post("/pools/:pool/servers/:serverId/rekey-tokens", validate("param", serverParam), validate("json", rekeyTokenBodySchema), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    return c.json(await issueEnrolmentToken(c.env, pool, { ttlSeconds: c.req.valid("json").ttlSeconds, serverId }, Date.now()), 201);
  })
  .post("/pools/:pool/servers/:serverId/ping", validate("param", serverParam), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    return c.json(await pingServer(c.env, pool, serverId));
  })
  .post("/pools/:pool/servers/:serverId/disconnect", validate("param", serverParam), validate("json", serverDisconnectBodySchema), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    const { reason = DEFAULT_DISCONNECT_REASON, ...target } = c.req.valid("json");
    return c.json(await disconnectOnServer(c.env, pool, serverId, target, reason));
  })
  .delete("/pools/:pool/servers/:serverId", validate("param", serverParam), async (c) => {
    const { pool, serverId } = c.req.valid("param");
    await removeNode(c.env, pool, serverId);
    return c.body(null, 204);
  });
