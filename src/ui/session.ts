/**
 * The dashboard's sign-in session: its token (src/tokens/admin-ui-session.ts) in an HttpOnly, Secure, SameSite=Strict cookie scoped to `/admin`. The token carries no secret:
 * who signed in, how, a per-session CSRF token, and a fingerprint of the credential that was used
 * (so rotating the admin token, changing the admin's password or revoking their admin rights ends
 * the session at once). Signing out records the session's id (src/db/ui-session-queries.ts), so a copy
 * of the cookie stops working too.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { MIN_ADMIN_TOKEN_LENGTH } from "../auth/admin.ts";
import { ADMIN_UI_LIFETIME_SECONDS, ADMIN_UI_SESSION, type UiSource } from "../tokens/admin-ui-session.ts";
import { signingKey, signToken, verifyToken } from "../tokens/broker-token.ts";
import { passwordVersion } from "../tokens/user-session.ts";
import { randomToken, toBase64Url } from "../core/crypto.ts";
import { findUser } from "../db/user-queries.ts";
import type { Env } from "../env.ts";
import { isUiSessionRevoked, revokeUiSession } from "../db/ui-session-queries.ts";
import { log } from "../core/log.ts";

export const ADMIN_UI_COOKIE = "broker_admin";
export const ADMIN_UI_PATH = "/admin";

/** A verified dashboard session, as handlers see it. */
export interface UiSession {
  /** The token's `jti`: what signing out revokes. */
  id: string;
  login: string;
  source: UiSource;
  csrf: string;
  expiresAt: number;
}

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

/** Signs a session for `principal` and sets the cookie. False (nothing set) without a usable SIGNING_KEY. */
export async function startUiSession(c: Context, principal: UiPrincipal, nowMs = Date.now()): Promise<boolean> {
  const key = signingKey((c.env as Env).SIGNING_KEY);
  if (!key) {
    log.warn("dashboard sign-in refused: SIGNING_KEY is not set (or shorter than 32 chars)");
    return false;
  }
  const { token } = await signToken(key, ADMIN_UI_SESSION, principal.login, { src: principal.source, csrf: randomToken(32), cv: principal.credential }, nowMs);
  setCookie(c, ADMIN_UI_COOKIE, token, {
    path: ADMIN_UI_PATH,
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    maxAge: ADMIN_UI_LIFETIME_SECONDS,
  });
  return true;
}

/** Signs `session` out: revokes its id until it would expire, then clears the cookie (same name, path and flags, `Max-Age=0`). */
export async function endUiSession(c: Context, session: UiSession, nowMs = Date.now()): Promise<void> {
  await revokeUiSession((c.env as Env).DB, session.id, session.expiresAt, nowMs);
  deleteCookie(c, ADMIN_UI_COOKIE, { path: ADMIN_UI_PATH, httpOnly: true, secure: true, sameSite: "Strict" });
}

/**
 * The request's dashboard session, or null: checks the signature (HS256 only), audience, issuer,
 * lifetime (issued neither in the future nor more than 8 h ago) and claims, then that it was not
 * signed out and that the credential it was bound to still stands (one D1 read, two for password
 * admins). Never throws; the reason is logged, never returned.
 */
export async function readUiSession(c: Context, nowMs = Date.now()): Promise<UiSession | null> {
  const token = getCookie(c, ADMIN_UI_COOKIE);
  if (!token) return null;
  const env = c.env as Env;
  const key = signingKey(env.SIGNING_KEY);
  if (!key) return null;
  const verified = await verifyToken(key, ADMIN_UI_SESSION, token, nowMs);
  if (!verified.ok) {
    log.warn(`dashboard session refused: ${verified.error}`);
    return null;
  }
  const claims = verified.value;
  const [revoked, current] = await Promise.all([isUiSessionRevoked(env.DB, claims.jti), credentialVersion(env, key, claims.src, claims.sub)]);
  if (revoked) {
    log.warn(`dashboard session for ${JSON.stringify(claims.sub.slice(0, 64))} refused: signed out`);
    return null;
  }
  if (current === null || current !== claims.cv) {
    log.warn(`dashboard session for ${JSON.stringify(claims.sub.slice(0, 64))} refused: its credential changed`);
    return null;
  }
  return { id: claims.jti, login: claims.sub, source: claims.src, csrf: claims.csrf, expiresAt: claims.exp * 1000 };
}
