/**
 * Refreshing a broker session token (`POST /v1/auth/refresh`), for clients that keep a user
 * signed in (the `edge-desktop` helper): a valid session token, whose user still checks out in D1
 * (not deleted or disabled, same password), is exchanged for a fresh one that descends from the
 * same password sign-in. Refreshes stop MAX_SIGN_IN_AGE_SECONDS after that sign-in: the user
 * types the password again. OIDC tokens are the identity provider's to refresh, and the admin
 * secret is no session: both are refused like any other credential that is not a session token.
 */
import { findUser } from "../db/user-queries.ts";
import type { Env } from "../env.ts";
import { unauthorized } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { signingKey, verifyToken } from "../tokens/broker-token.ts";
import { issueSessionToken, MAX_SIGN_IN_AGE_SECONDS, sessionUserMismatch, USER_SESSION } from "../tokens/user-session.ts";
import { groupsOf } from "../users/users.ts";
import type { SignInResult } from "./user-auth.ts";

/** A fresh token for the bearer session `token`; the generic 401 for anything else (the reason is logged). */
export async function refreshSession(env: Env, token: string | null, nowMs: number): Promise<SignInResult> {
  const key = signingKey(env.SIGNING_KEY);
  if (!key || !token) throw unauthorized();
  const verified = await verifyToken(key, USER_SESSION, token, nowMs);
  if (!verified.ok) {
    log.warn(`session refresh refused: ${verified.error}`);
    throw unauthorized();
  }
  const claims = verified.value;
  const signedInAtMs = (claims.ath ?? claims.iat) * 1000;
  const user = await findUser(env.DB, claims.sub);
  const mismatch = await sessionUserMismatch(claims, user);
  const reason = mismatch ?? (nowMs - signedInAtMs > MAX_SIGN_IN_AGE_SECONDS * 1000 ? "sign-in too old" : null);
  if (reason || !user) {
    log.warn(`session refresh for ${JSON.stringify(claims.sub.slice(0, 64))} refused: ${reason}`);
    throw unauthorized();
  }
  const groups = groupsOf(user);
  const session = await issueSessionToken(key, { login: user.login, groups, isAdmin: user.isAdmin, passwordHash: user.passwordHash }, nowMs, signedInAtMs);
  return { ...session, user: { login: user.login, groups, isAdmin: user.isAdmin } };
}
