/**
 * Admin management of broker-managed users. Mounted at `/v1/admin/users`, after the `/v1/admin`
 * router, whose `requireAdmin` also runs for these paths; `requireAdminIdentity` here keeps the
 * router safe on its own. Answers never contain password hashes.
 */
import { Hono } from "hono";
import { z } from "zod";
import { requireAdminIdentity } from "../auth/user-auth.ts";
import type { AppEnv } from "../env.ts";
import { createUser, createUserSchema, deleteUser, getUser, listUsers, loginSchema, updateUser, updateUserSchema } from "../users/users.ts";
import { validate } from "../core/validation.ts";
import { DEFAULT_DISCONNECT_REASON, disconnectUser } from "../cluster/node-commands.ts";
import { disconnectReasonSchema } from "./servers.ts";

export const loginParam = z.object({ login: loginSchema });
/** Any login the relay may have named (broker-managed or from the identity provider), not only broker-managed users. */
export const anyLoginParam = z.object({ login: z.string().min(1).max(256).regex(/^[^\x00-\x1f\x7f]+$/, "a login has no control characters") });
export const userDisconnectBodySchema = z.strictObject({ reason: disconnectReasonSchema.optional() });

export const userRoutes = new Hono<AppEnv>()
  .use(requireAdminIdentity)
  .get("/", async (c) => c.json({ users: await listUsers(c.env) }))
  .post("/", validate("json", createUserSchema), async (c) => c.json(await createUser(c.env, c.req.valid("json"), Date.now()), 201))
  .get("/:login", validate("param", loginParam), async (c) => c.json(await getUser(c.env, c.req.valid("param").login)))
  .patch("/:login", validate("param", loginParam), validate("json", updateUserSchema), async (c) =>
    c.json(await updateUser(c.env, c.req.valid("param").login, c.req.valid("json"), Date.now())),
  )
  .post("/:login/disconnect", validate("param", anyLoginParam), validate("json", userDisconnectBodySchema), async (c) => {
    return c.json(await disconnectUser(c.env, c.req.valid("param").login, c.req.valid("json").reason ?? DEFAULT_DISCONNECT_REASON));
  })
  .delete("/:login", validate("param", loginParam), async (c) => {
    await deleteUser(c.env, c.req.valid("param").login);
    return c.body(null, 204);
  });
