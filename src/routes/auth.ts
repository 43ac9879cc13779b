/** Sign-in for broker-managed users, refreshing their session tokens, and "who am I" for any authenticated caller. */
import { Hono } from "hono";
import { z } from "zod";
import { bearerToken } from "../auth/admin.ts";
import { refreshSession } from "../auth/session-refresh.ts";
import { requireUser, signIn } from "../auth/user-auth.ts";
import type { AppEnv } from "../env.ts";
import { clientAddressKey, rateLimit, SIGN_IN_RULE } from "../core/rate-limit.ts";
import { MAX_PASSWORD_LENGTH } from "../users/users.ts";
import { validate } from "../core/validation.ts";

// Deliberately looser than the stored formats: a login or password that could never match is
// the generic 401 (and a counted failure), not a 400 that tells the caller why.
export const signInSchema = z.strictObject({
  login: z.string().min(1).max(256),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

export const authRoutes = new Hono<AppEnv>()
  .post("/login", rateLimit(SIGN_IN_RULE, clientAddressKey), validate("json", signInSchema), async (c) => {
    const { login, password } = c.req.valid("json");
    return c.json(await signIn(c.env, login, password, c.get("clientIp")));
  })
  .post("/refresh", async (c) => c.json(await refreshSession(c.env, bearerToken(c.req.header("Authorization")), Date.now())))
  .get("/me", requireUser, (c) => c.json(c.get("identity")));
