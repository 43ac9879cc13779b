/** Placement: `POST /v1/pools/:pool/select` runs the pool's chain and reserves the choice. */
import { Hono } from "hono";
import { z } from "zod";
import { requireAdmin } from "../auth/admin.ts";
import type { AppEnv } from "../env.ts";
import { poolStub, requirePool } from "../membership.ts";
import { selectionError } from "../policies.ts";
import { poolNameSchema } from "../protocol.ts";
import { clientIpOf, selectBodySchema } from "../selection.ts";
import { validate } from "../validation.ts";

export const poolRoutes = new Hono<AppEnv>().post(
  "/:pool/select",
  requireAdmin,
  validate("param", z.object({ pool: poolNameSchema })),
  validate("json", selectBodySchema),
  async (c) => {
    const { pool } = c.req.valid("param");
    await requirePool(c.env, pool);
    const body = c.req.valid("json");
    const outcome = await poolStub(c.env, pool).select({ ...body, local: clientIpOf(c.req.header("CF-Connecting-IP")) });
    if (!outcome.ok) throw selectionError(outcome);
    const { ok: _ok, ...decision } = outcome;
    return c.json(decision);
  },
);
