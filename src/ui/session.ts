/**
 * The dashboard's sign-in session: a cookie session (src/ui/cookie-session.ts) of the dashboard's
 * token kind (src/tokens/admin-ui-session.ts), scoped to `/admin`. It is bound to the credential
 * that signed in, so rotating the admin token, changing the admin's password or revoking their
 * admin rights ends it at once.
 */
import type { Context } from "hono";
import { MIN_ADMIN_TOKEN_LENGTH } from "../auth/admin.ts";
import { ADMIN_UI_SESSION, type UiSource } from "../tokens/admin-ui-session.ts";
import { passwordVersion } from "../tokens/user-session.ts";
import { toBase64Url } from "../core/crypto.ts";
import { findUser } from "../db/user-queries.ts";
import type { Env } from "../env.ts";
import { type CookieFace, type CookieSession, endCookieSession, readCookieSession, startCookieSession } from "./cookie-session.ts";

export const ADMIN_UI_COOKIE = "broker_admin";
export const ADMIN_UI_PATH = "/admin";

/** A verified dashboard session, as handlers see it. */
export type UiSession = CookieSession<UiSource>;

/** What a successful sign-in binds the session to. */
export interface UiPrincipal {
  login: string;
  source: UiSource;
  /** From `credentialVersion`. */
  credential: string;
}

async function hmac(key: Uint8Array, message: string): Promise<string> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(message))));
}

/**
 * The fingerprint a session is bound to: an HMAC (keyed with SIGNING_KEY) of the admin token, or
 * the password-hash fingerprint user sessions use; "" for OIDC. Null when the credential is gone
 * (admin token unset, user deleted, disabled or no longer admin).
 */
export async function credentialVersion(env: Env, key: Uint8Array, source: UiSource, login: string): Promise<string | null> {
  if (source === "oidc") return "";
  if (source === "admin-token") {
    const token = env.ADMIN_TOKEN;
    if (!token || token.length < MIN_ADMIN_TOKEN_LENGTH) return null;
    return (await hmac(key, `admin-ui:admin-token:${token}`)).slice(0, 22);
  }
  const user = await findUser(env.DB, login);
  if (!user || user.disabled || !user.isAdmin) return null;
  return passwordVersion(user.passwordHash);
}

const DASHBOARD: CookieFace<typeof ADMIN_UI_SESSION.claims, null> = {
  name: "dashboard",
  cookie: ADMIN_UI_COOKIE,
  path: ADMIN_UI_PATH,
  kind: ADMIN_UI_SESSION,
  async bind(c, key, source, login) {
    const version = await credentialVersion(c.env as Env, key, source, login);
    return version === null ? null : { version, principal: null };
  },
};

/** Signs a session for `principal` and sets the cookie. False (nothing set) without a usable SIGNING_KEY. */
export function startUiSession(c: Context, principal: UiPrincipal, nowMs = Date.now()): Promise<boolean> {
  return startCookieSession(c, DASHBOARD, principal, nowMs);
}

/** Signs `session` out: revokes its id until it would expire, then clears the cookie. */
export function endUiSession(c: Context, session: UiSession, nowMs = Date.now()): Promise<void> {
  return endCookieSession(c, DASHBOARD, session, nowMs);
}

/**
 * The request's dashboard session, or null: the token checked, not signed out, and its
 * credential unchanged (one D1 read, two for password admins). Never throws.
 */
export async function readUiSession(c: Context, nowMs = Date.now()): Promise<UiSession | null> {
  return (await readCookieSession(c, DASHBOARD, nowMs))?.session ?? null;
}
