/** A pool's wait line for admins (`/v1/admin`, admin auth): who waits, since when, at which place; remove one. */
import { Hono } from "hono";
import { z } from "zod";
import { requireAdminIdentity } from "../auth/user-auth.ts";
import { validate } from "../core/validation.ts";
import type { AppEnv } from "../env.ts";
import { poolNameSchema } from "../protocol.ts";
import { poolQueue, removeFromQueue } from "../sessions/wait-line.ts";

export const queueEntryParam = z.object({ pool: poolNameSchema, entryId: z.string().regex(/^wq_[A-Za-z0-9]{20}$/, "an entry id is wq_<20 letters or digits>") });

// Mounted beside the admin router at /v1/admin: the check is per route so it runs once per request.
export const queueAdminRoutes = new Hono<AppEnv>()
  .get("/pools/:pool/queue", requireAdminIdentity, validate("param", queueEntryParam.pick({ pool: true })), async (c) => c.json({ queue: await poolQueue(c.env, c.req.valid("param").pool) }))
  .delete("/pools/:pool/queue/:entryId", requireAdminIdentity, validate("param", queueEntryParam), async (c) => {
    const { pool, entryId } = c.req.valid("param");
    await removeFromQueue(c.env, pool, entryId);
    return c.body(null, 204);
  });
