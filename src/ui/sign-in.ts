/**
 * Dashboard sign-in: the admin token, a broker admin account (password, throttled by the login
 * guard), or a Cloudflare Access / OIDC identity in an admin group (`identify`). Every failure is
 * the same generic 401; the reason goes to the log only.
 */
import type { Context } from "hono";
import { MIN_ADMIN_TOKEN_LENGTH } from "../auth/admin.ts";
import { checkLoginGuard, guardKeys, recordFailedSignIn } from "../auth/login-guard.ts";
import { signingKey } from "../tokens/broker-token.ts";
import { authenticatePassword, identify } from "../auth/user-auth.ts";
import { secretsEqual } from "../core/crypto.ts";
import type { AppEnv, Env } from "../env.ts";
import { BrokerError, unauthorized } from "../core/errors.ts";
import type { UiSource } from "../tokens/admin-ui-session.ts";
import { credentialVersion, type UiPrincipal } from "./session.ts";
import type { UiEnv } from "./ui-env.ts";
import { log } from "../core/log.ts";

/** What the sign-in form sends, already validated. */
export type SignInForm =
  | { method: "token"; token: string }
  | { method: "password"; login: string; password: string }
  | { method: "access" };

async function bind(env: Env, source: UiSource, login: string): Promise<UiPrincipal> {
  const key = signingKey(env.SIGNING_KEY);
  const credential = key ? await credentialVersion(env, key, source, login) : null;
  if (credential === null) throw unauthorized();
  return { login, source, credential };
}

/** The admin token, throttled per client address like password guesses (429 with Retry-After). */
async function checkAdminToken(env: Env, given: string, clientIp: string | undefined, nowMs: number): Promise<void> {
  const keys = guardKeys(null, clientIp);
  const { verdict } = await checkLoginGuard(env.DB, keys, nowMs);
  if (verdict.limited) {
    throw new BrokerError("RATE_LIMITED", "too many failed sign-ins; try again later", {
      headers: { "Retry-After": String(verdict.retryAfterSeconds) },
    });
  }
  const expected = env.ADMIN_TOKEN;
  if (!expected || expected.length < MIN_ADMIN_TOKEN_LENGTH) {
    log.warn("dashboard sign-in refused: ADMIN_TOKEN is not set (or shorter than 16 chars)");
    throw unauthorized();
  }
  if (!(await secretsEqual(given, expected))) {
    await recordFailedSignIn(env.DB, keys, nowMs);
    log.warn("dashboard sign-in refused: wrong admin token");
    throw unauthorized();
  }
}

/**
 * Who may sign in with this form, or the generic 401 `UNAUTHORIZED` (429 `RATE_LIMITED` while
 * throttled). Non-admin accounts and Access identities outside the admin groups are refused.
 */
export async function signInPrincipal(c: Context<UiEnv>, form: SignInForm, nowMs = Date.now()): Promise<UiPrincipal> {
  const env = c.env;
  const clientIp = c.get("clientIp");
  switch (form.method) {
    case "token":
      await checkAdminToken(env, form.token, clientIp, nowMs);
      return bind(env, "admin-token", "admin");
    case "password": {
      const identity = await authenticatePassword(env, form.login, form.password, clientIp, nowMs);
      if (!identity.isAdmin) {
        log.warn(`dashboard sign-in refused for ${JSON.stringify(form.login.slice(0, 64))}: not an admin`);
        throw unauthorized();
      }
      return bind(env, "password", identity.login);
    }
    case "access": {
      const identity = await accessIdentity(c);
      if (!identity) throw unauthorized();
      return bind(env, "oidc", identity.login);
    }
  }
}

/**
 * The admin Cloudflare Access / OIDC identity the request carries (`Cf-Access-Jwt-Assertion`),
 * or null: no assertion, not valid, or not in an admin group.
 */
export async function accessIdentity(c: Context<UiEnv>): Promise<{ login: string } | null> {
  if (!c.req.header("Cf-Access-Jwt-Assertion")) return null;
  // UiEnv only adds the `ui` variable, which `identify` neither reads nor sets.
  const identity = await identify(c as unknown as Context<AppEnv>);
  if (!identity || identity.source !== "oidc" || !identity.isAdmin) return null;
  return { login: identity.login };
}
