/**
 * User authentication: password sign-in (guarded against guessing) and the middleware that turns
 * a request's credentials into an `Identity`. Every failure is the same generic 401; the precise
 * reason is logged, never returned.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { decodeJwt, type JWTVerifyGetKey } from "jose";
import { secretsEqual } from "../core/crypto.ts";
import type { UserRow } from "../db/schema.ts";
import { findUser } from "../db/user-queries.ts";
import type { AppEnv, Env } from "../env.ts";
import { BrokerError, unauthorized } from "../core/errors.ts";
import { groupsOf, identityOfUser, loginSchema } from "../users/users.ts";
import { bearerToken, MIN_ADMIN_TOKEN_LENGTH } from "./admin.ts";
import type { Identity } from "./identity.ts";
import { checkLoginGuard, guardKeys, recordFailedSignIn, recordSuccessfulSignIn } from "./login-guard.ts";
import { oidcSettingsFrom, remoteKeySource, verifyOidcToken } from "./oidc.ts";
import { verifyDummyPassword, verifyPassword } from "./passwords.ts";
import { BROKER_ISSUER, type SignedToken, signingKey, verifyToken } from "../tokens/broker-token.ts";
import { issueSessionToken, sessionUserMismatch, USER_SESSION } from "../tokens/user-session.ts";
import { log } from "../core/log.ts";

/** The identity the deployment's admin bearer secret stands for. */
export function adminTokenIdentity(): Identity {
  return { login: "admin", groups: [], isAdmin: true, isManager: true, source: "admin-token" };
}

function quoted(value: string): string {
  return JSON.stringify(value.slice(0, 64));
}

/**
 * Checks a login and password and returns the user's row. In order: refuses with 429
 * `RATE_LIMITED` (and `Retry-After`) while the login is throttled from this address (see
 * login-guard.ts), without checking the password; runs exactly one PBKDF2 check (a dummy one for
 * unknown logins); counts a failure, or records the success.
 */
async function checkPassword(env: Env, login: string, password: string, clientIp: string | undefined, nowMs: number): Promise<UserRow> {
  const validLogin = loginSchema.safeParse(login).success ? login : null;
  const keys = guardKeys(validLogin, clientIp);
  const reading = await checkLoginGuard(env.DB, keys, nowMs);
  const verdict = reading.verdict;
  if (verdict.limited) {
    log.warn(`sign-in refused for ${quoted(login)}: ${verdict.key} is throttled for ${verdict.retryAfterSeconds}s`);
    throw new BrokerError("RATE_LIMITED", "too many failed sign-ins; try again later", {
      headers: { "Retry-After": String(verdict.retryAfterSeconds) },
    });
  }
  const user = validLogin ? await findUser(env.DB, validLogin) : null;
  const matches = user ? await verifyPassword(password, user.passwordHash) : await verifyDummyPassword(password);
  const reason = !user ? "unknown login" : !matches ? "wrong password" : user.disabled ? "user disabled" : null;
  if (reason || !user) {
    await recordFailedSignIn(env.DB, keys, nowMs);
    log.warn(`sign-in refused for ${quoted(login)}: ${reason}`);
    throw unauthorized();
  }
  await recordSuccessfulSignIn(env.DB, keys, reading, nowMs);
  return user;
}

/**
 * Authenticates a broker-managed user by password, for the native sign-in route and the X2Go
 * broker protocol. Throws the generic 401 `UNAUTHORIZED` on any failure (unknown login, wrong
 * password, disabled user) and 429 `RATE_LIMITED` with `Retry-After` while throttled.
 * `clientIp` is the caller's address (`CF-Connecting-IP`); requests without one count as coming
 * from one unknown address.
 */
export async function authenticatePassword(env: Env, login: string, password: string, clientIp: string | undefined, nowMs = Date.now()): Promise<Identity> {
  return identityOfUser(await checkPassword(env, login, password, clientIp, nowMs));
}

export interface SignInResult extends SignedToken {
  user: { login: string; groups: string[]; isAdmin: boolean };
}

/**
 * Password sign-in that issues a session token. Without a usable SIGNING_KEY (unset or shorter
 * than 32 chars) nobody can sign in: the generic 401, and a warning in the log (as for a missing
 * ADMIN_TOKEN), before any password is checked or any counter written.
 */
export async function signIn(env: Env, login: string, password: string, clientIp: string | undefined, nowMs = Date.now()): Promise<SignInResult> {
  const key = signingKey(env.SIGNING_KEY);
  if (!key) {
    log.warn("sign-in refused: SIGNING_KEY is not set (or shorter than 32 chars)");
    throw unauthorized();
  }
  const user = await checkPassword(env, login, password, clientIp, nowMs);
  const groups = groupsOf(user);
  const session = await issueSessionToken(key, { login: user.login, groups, isAdmin: user.isAdmin, passwordHash: user.passwordHash }, nowMs);
  return { ...session, user: { login: user.login, groups, isAdmin: user.isAdmin } };
}

function unverifiedIssuer(token: string): string | null {
  try {
    const { iss } = decodeJwt(token);
    return typeof iss === "string" ? iss : null;
  } catch {
    return null;
  }
}

async function identifySession(env: Env, token: string, nowMs: number): Promise<Identity | null> {
  const key = signingKey(env.SIGNING_KEY);
  if (!key) {
    log.warn("session token refused: SIGNING_KEY is not set (or shorter than 32 chars)");
    return null;
  }
  const verified = await verifyToken(key, USER_SESSION, token, nowMs);
  if (!verified.ok) {
    log.warn(`session token refused: ${verified.error}`);
    return null;
  }
  const user = await findUser(env.DB, verified.value.sub);
  const mismatch = await sessionUserMismatch(verified.value, user);
  if (mismatch || !user) {
    log.warn(`session token for ${quoted(verified.value.sub)} refused: ${mismatch}`);
    return null;
  }
  return identityOfUser(user);
}

/** Test seams; production uses the clock and the IdP's remote JWKS. */
export interface IdentifyOptions {
  oidcKeySource?: JWTVerifyGetKey;
  nowMs?: number;
}

/**
 * Who the request acts for, or null. Accepts, in order: a broker session token
 * (`Authorization: Bearer`), an OIDC / Access token (`Cf-Access-Jwt-Assertion` or
 * `Authorization: Bearer`, only if OIDC is configured), and the admin bearer secret.
 * A session token costs one D1 read; nothing here writes.
 */
export async function identify(c: Context<AppEnv>, options: IdentifyOptions = {}): Promise<Identity | null> {
  const env = c.env;
  const nowMs = options.nowMs ?? Date.now();
  const bearer = bearerToken(c.req.header("Authorization"));
  const bearerIssuer = bearer ? unverifiedIssuer(bearer) : null;
  if (bearer && bearerIssuer === BROKER_ISSUER) {
    const identity = await identifySession(env, bearer, nowMs);
    if (identity) return identity;
  }
  const oidc = oidcSettingsFrom(env);
  if (oidc) {
    const assertion = c.req.header("Cf-Access-Jwt-Assertion");
    const candidates = [assertion, bearerIssuer !== null && bearerIssuer !== BROKER_ISSUER ? bearer : null];
    for (const token of new Set(candidates)) {
      if (!token) continue;
      const result = await verifyOidcToken(token, oidc, options.oidcKeySource ?? remoteKeySource(oidc.jwksUrl));
      if (result.ok) return result.value;
      log.warn(`OIDC token refused: ${result.error}`);
    }
  }
  const adminToken = env.ADMIN_TOKEN;
  if (bearer && adminToken && adminToken.length >= MIN_ADMIN_TOKEN_LENGTH && (await secretsEqual(bearer, adminToken))) {
    return adminTokenIdentity();
  }
  return null;
}

/** Requires any authenticated user (see `identify`) and sets `identity`; else the generic 401. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const identity = await identify(c);
  if (!identity) throw unauthorized();
  c.set("identity", identity);
  await next();
});

/**
 * Requires the admin bearer secret or an identity with `isAdmin` (a broker admin user, or a
 * member of OIDC_ADMIN_GROUPS) and sets `identity`: 401 without credentials, 403 for a non-admin.
 */
export const requireAdminIdentity = createMiddleware<AppEnv>(async (c, next) => {
  const identity = await identify(c);
  if (!identity) throw unauthorized();
  if (!identity.isAdmin) throw new BrokerError("FORBIDDEN", "this needs admin rights");
  c.set("identity", identity);
  await next();
});
