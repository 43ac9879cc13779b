/**
 * Placement: `POST /v1/pools/:pool/select` runs the pool's chain and reserves the choice. Admins
 * may select for any user; a user selects as themselves, with the groups the broker knows, and
 * through a profile that admits them (rate-limited like session starts).
 */
import { Hono } from "hono";
import { z } from "zod";
import { requireUser } from "../auth/user-auth.ts";
import { nonAdminUserKey, rateLimit, TICKET_RULE } from "../core/rate-limit.ts";
import { validate } from "../core/validation.ts";
import type { AppEnv } from "../env.ts";
import { poolNameSchema } from "../protocol.ts";
import { selectInPool } from "../sessions/placement.ts";
import { selectBodySchema } from "../sessions/placement-request.ts";
import { profileIdSchema } from "../profiles/profile-schema.ts";

export const selectParamSchema = z.object({ pool: poolNameSchema });
/** `profileId` is required of users (not of admins): the profile's ACL, policy, hosts and per-user limit apply. */
export const poolSelectBodySchema = selectBodySchema.partial({ user: true }).extend({ profileId: profileIdSchema.optional() });

export const poolRoutes = new Hono<AppEnv>().post(
  "/:pool/select",
  requireUser,
  rateLimit(TICKET_RULE, nonAdminUserKey),
  validate("param", selectParamSchema),
  validate("json", poolSelectBodySchema),
  async (c) => c.json(await selectInPool(c.env, c.req.valid("param").pool, c.get("identity"), c.req.valid("json"), c.get("clientIp"))),
);
