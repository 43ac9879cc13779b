/**
 * Admin management of session profiles, mounted at `/v1/admin/profiles` after the `/v1/admin`
 * router (whose `requireAdminIdentity` also covers these paths); `requireAdminIdentity` here keeps the router
 * safe on its own. Updates are full replacements (PUT). The import takes X2Go's
 * `x2gobroker-sessionprofiles.conf` as a `text/plain` body.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { requireAdminIdentity } from "../auth/user-auth.ts";
import type { AppEnv } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import { profileBodySchema, profileIdSchema, profileModeSchema, profileSchema } from "../profiles/profile-schema.ts";
import { createProfile, deleteProfile, getProfile, importProfiles, listProfiles, replaceProfile } from "../profiles/profiles.ts";
import { poolNameSchema } from "../protocol.ts";
import { validate } from "../core/validation.ts";

/** The largest profiles file accepted (a file of 500 profiles with their options fits). */
export const MAX_IMPORT_BODY_BYTES = 256 * 1024;

export const idParam = z.object({ id: profileIdSchema });
export const listQuery = z.object({ pool: poolNameSchema.optional() });
export const importQuery = z.object({
  pool: poolNameSchema,
  replace: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
  mode: profileModeSchema.optional(),
});

export const profileAdminRoutes = new Hono<AppEnv>()
  .use(requireAdminIdentity)
  .get("/", validate("query", listQuery), async (c) =>
    c.json({ profiles: await listProfiles(c.env, c.req.valid("query").pool) }),
  )
  .post("/", validate("json", profileSchema), async (c) => c.json(await createProfile(c.env, c.req.valid("json"), Date.now()), 201))
  .post(
    "/import",
    bodyLimit({
      maxSize: MAX_IMPORT_BODY_BYTES,
      onError: () => {
        throw new BrokerError("PAYLOAD_TOO_LARGE", `the profiles file exceeds ${MAX_IMPORT_BODY_BYTES} bytes`);
      },
    }),
    validate("query", importQuery),
    async (c) => {
      if (!/^text\/plain\b/i.test(c.req.header("Content-Type") ?? "")) {
        throw new BrokerError("UNSUPPORTED_MEDIA_TYPE", "the body must be text/plain: an x2gobroker-sessionprofiles.conf");
      }
      const { pool, replace, mode } = c.req.valid("query");
      const text = await c.req.text();
      return c.json(await importProfiles(c.env, text, pool, { replace, ...(mode ? { mode } : {}) }));
    },
  )
  .get("/:id", validate("param", idParam), async (c) => c.json(await getProfile(c.env, c.req.valid("param").id)))
  .put("/:id", validate("param", idParam), validate("json", profileBodySchema), async (c) =>
    c.json(await replaceProfile(c.env, c.req.valid("param").id, c.req.valid("json"), Date.now())),
  )
  .delete("/:id", validate("param", idParam), async (c) => {
    await deleteProfile(c.env, c.req.valid("param").id);
    return c.body(null, 204);
  });
