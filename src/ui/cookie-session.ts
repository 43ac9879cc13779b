/**
 * Cookie sessions for the broker's browser faces, the dashboard at `/admin` (src/ui/session.ts)
 * and the user's portal at `/` (src/portal/session.ts): a broker-signed token of the face's own
 * kind (src/tokens/) in an HttpOnly, Secure, SameSite=Strict cookie. The token carries no
 * secret: who signed in, how, a per-session CSRF token, and a fingerprint of the credential that
 * was used, so changing that credential ends the session at once. Signing out records the
 * token's id (src/db/ui-session-queries.ts), so a copy of the cookie stops working too.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { z } from "zod";
import { randomToken } from "../core/crypto.ts";
import { isUiSessionRevoked, revokeUiSession } from "../db/ui-session-queries.ts";
import type { Env } from "../env.ts";
import { signingKey, signToken, type TokenKind, verifyToken } from "../tokens/broker-token.ts";
import { log } from "../core/log.ts";

/** The claims every cookie-session kind has: how it was signed in, the CSRF token, the credential fingerprint. */
export type CookieClaimsShape = { src: z.ZodType<string>; csrf: z.ZodString; cv: z.ZodString };

export type SourceOf<Shape extends CookieClaimsShape> = z.infer<Shape["src"]>;

/** A verified cookie session, as handlers see it. */
export interface CookieSession<Source extends string> {
  /** The token's `jti`: what signing out revokes. */
  id: string;
  login: string;
  source: Source;
  csrf: string;
  expiresAt: number;
}

/**
 * One browser face: its cookie, its token kind, and how to tell whether the credential a session
 * was bound to still stands. `bind` answers the credential's current fingerprint and what the
 * face's handlers need besides (`Principal`), or null when the credential is gone.
 */
export interface CookieFace<Shape extends CookieClaimsShape, Principal> {
  /** For the log: "dashboard", "portal". */
  name: string;
  cookie: string;
  path: string;
  kind: TokenKind<Shape>;
  bind(c: Context, key: Uint8Array, source: SourceOf<Shape>, login: string): Promise<{ version: string; principal: Principal } | null>;
}

const quoted = (login: string) => JSON.stringify(login.slice(0, 64));

/** Signs a session bound to `credential` and sets the cookie. False (nothing set) without a usable SIGNING_KEY. */
export async function startCookieSession<Shape extends CookieClaimsShape, P>(
  c: Context,
  face: CookieFace<Shape, P>,
  principal: { login: string; source: SourceOf<Shape>; credential: string },
  nowMs = Date.now(),
): Promise<boolean> {
  const key = signingKey((c.env as Env).SIGNING_KEY);
  if (!key) {
    log.warn(`${face.name} sign-in refused: SIGNING_KEY is not set (or shorter than 32 chars)`);
    return false;
  }
  const claims = { src: principal.source, csrf: randomToken(32), cv: principal.credential } as z.input<z.ZodObject<Shape>>;
  const { token } = await signToken(key, face.kind, principal.login, claims, nowMs);
  setCookie(c, face.cookie, token, { path: face.path, httpOnly: true, secure: true, sameSite: "Strict", maxAge: face.kind.lifetimeSeconds });
  return true;
}

/** Signs `session` out: revokes its id until it would expire, then clears the cookie (same name, path and flags, `Max-Age=0`). */
export async function endCookieSession<Shape extends CookieClaimsShape, P>(c: Context, face: CookieFace<Shape, P>, session: { id: string; expiresAt: number }, nowMs = Date.now()): Promise<void> {
  await revokeUiSession((c.env as Env).DB, session.id, session.expiresAt, nowMs);
  deleteCookie(c, face.cookie, { path: face.path, httpOnly: true, secure: true, sameSite: "Strict" });
}

/**
 * The request's session of `face` with its principal, or null: checks the signature (HS256
 * only), audience, issuer, lifetime and claims, then that it was not signed out and that the
 * credential it was bound to still stands. Never throws; the reason is logged, never returned.
 */
export async function readCookieSession<Shape extends CookieClaimsShape, P>(
  c: Context,
  face: CookieFace<Shape, P>,
  nowMs = Date.now(),
): Promise<{ session: CookieSession<SourceOf<Shape>>; principal: P } | null> {
  const token = getCookie(c, face.cookie);
  if (!token) return null;
  const env = c.env as Env;
  const key = signingKey(env.SIGNING_KEY);
  if (!key) return null;
  const verified = await verifyToken(key, face.kind, token, nowMs);
  if (!verified.ok) {
    log.warn(`${face.name} session refused: ${verified.error}`);
    return null;
  }
  const claims = verified.value as { jti: string; sub: string; exp: number; src: SourceOf<Shape>; csrf: string; cv: string };
  const [revoked, bound] = await Promise.all([isUiSessionRevoked(env.DB, claims.jti), face.bind(c, key, claims.src, claims.sub)]);
  if (revoked) {
    log.warn(`${face.name} session for ${quoted(claims.sub)} refused: signed out`);
    return null;
  }
  if (bound === null || bound.version !== claims.cv) {
    log.warn(`${face.name} session for ${quoted(claims.sub)} refused: its credential changed`);
    return null;
  }
  return { session: { id: claims.jti, login: claims.sub, source: claims.src, csrf: claims.csrf, expiresAt: claims.exp * 1000 }, principal: bound.principal };
}
