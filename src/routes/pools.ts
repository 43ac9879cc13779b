/**
 * Placement: `POST /v1/pools/:pool/select` runs the pool's chain and reserves the choice. Admins
 * may select for any user; a user selects as themselves, with the groups the broker knows.
 */
import { Hono } from "hono";
import { z } from "zod";
import { requireUser } from "../auth/user-auth.ts";
import { validate } from "../core/validation.ts";
import type { AppEnv } from "../env.ts";
import { poolNameSchema } from "../protocol.ts";
import { selectInPool } from "../sessions/placement.ts";
import { selectBodySchema } from "../sessions/placement-request.ts";

export const selectParamSchema = z.object({ pool: poolNameSchema });
export const poolSelectBodySchema = selectBodySchema.partial({ user: true });

export const poolRoutes = new Hono<AppEnv>().post(
  "/:pool/select",
  requireUser,
  validate("param", selectParamSchema),
  validate("json", poolSelectBodySchema),
  async (c) => c.json(await selectInPool(c.env, c.req.valid("param").pool, c.get("identity"), c.req.valid("json"), c.get("clientIp"))),
);
