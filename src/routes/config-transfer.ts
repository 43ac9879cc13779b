/**
 * `GET /v1/admin/pools/:pool/export` and `POST /v1/admin/pools/:pool/import`: a pool's
 * configuration as one JSON document (src/config-transfer.ts). Mounted at `/v1/admin`, after the
 * admin router whose `requireAdminIdentity` covers these paths; it runs here too so the router
 * is safe on its own. The import body is parsed here rather than by the validator middleware so
 * that a refusal lists every problem, not the first few.
 */
import { Hono } from "hono";
import { requireAdminIdentity } from "../auth/user-auth.ts";
import { exportPoolConfig, importPoolConfig, parseConfigDocument } from "../cluster/config-transfer.ts";
import type { AppEnv } from "../env.ts";
import { parseJsonText, validate } from "../core/validation.ts";
import { poolParam } from "./admin.ts";

export const configTransferRoutes = new Hono<AppEnv>()
  .get("/pools/:pool/export", requireAdminIdentity, validate("param", poolParam), async (c) => c.json(await exportPoolConfig(c.env, c.req.valid("param").pool)))
  .post("/pools/:pool/import", requireAdminIdentity, validate("param", poolParam), async (c) => {
    const document = parseConfigDocument(parseJsonText(c.req.header("Content-Type"), await c.req.text()));
    return c.json(await importPoolConfig(c.env, c.req.valid("param").pool, document, Date.now()));
  });
