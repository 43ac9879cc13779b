/**
 * Placement: `POST /v1/pools/:pool/select` runs the pool's chain and reserves the choice. Admins
 * may select for any user; a user selects as themselves, with the groups the broker knows.
 */
import { Hono } from "hono";
import { z } from "zod";
import { requireUser } from "../auth/user-auth.ts";
import type { AppEnv } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import { ensurePoolExists, poolStub } from "../cluster/membership.ts";
import { selectionError } from "../cluster/policies.ts";
import { poolNameSchema } from "../protocol.ts";
import { clientIpOf, selectBodySchema } from "../sessions/select-body.ts";
import { validate } from "../core/validation.ts";

export const selectParamSchema = z.object({ pool: poolNameSchema });
export const poolSelectBodySchema = selectBodySchema.partial({ user: true });

export const poolRoutes = new Hono<AppEnv>().post(
  "/:pool/select",
  requireUser,
  validate("param", selectParamSchema),
  validate("json", poolSelectBodySchema),
  async (c) => {
    const { pool } = c.req.valid("param");
    await ensurePoolExists(c.env, pool);
    const { user: asked, ...body } = c.req.valid("json");
    const identity = c.get("identity");
    if (!identity.isAdmin && asked && asked.login !== identity.login) {
      throw new BrokerError("FORBIDDEN", "only admins may select for another user");
    }
    const self = { login: identity.login, groups: identity.groups, isAdmin: identity.isAdmin, isManager: identity.isManager };
    const user = identity.isAdmin && asked ? asked : self;
    const outcome = await poolStub(c.env, pool).select({ ...body, user, local: clientIpOf(c.req.header("CF-Connecting-IP")) });
    if (!outcome.ok) throw selectionError(outcome);
    const { ok: _ok, ...decision } = outcome;
    return c.json(decision);
  },
);
