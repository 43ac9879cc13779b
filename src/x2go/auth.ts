/**
 * Authentication of an X2Go broker request: a non-empty `authid` is the only credential looked
 * at (the password is then ignored, as in x2gobroker); otherwise `user` and `password` go
 * through the broker's password sign-in (throttled). Either way the answer carries the chain's
 * next cookie. Failures are the generic 401 (or 429 with Retry-After while throttled); the
 * reason goes to the log only.
 *
 * A request with `Authorization: Bearer` (the `edge-desktop` helper, passing an X2Go client's
 * requests on as its signed-in user) is authenticated by that token alone, as any user route
 * (`identify`: a broker session or an OIDC token; not the admin secret, which is no user), and
 * its answers carry no cookie: the bearer is the credential of every request.
 */
import type { Identity } from "../auth/identity.ts";
import { authenticatePassword } from "../auth/user-auth.ts";
import { passwordVersion } from "../tokens/user-session.ts";
import { findUser } from "../db/user-queries.ts";
import type { Env } from "../env.ts";
import { unauthorized } from "../core/errors.ts";
import { identityOfUser } from "../users/users.ts";
import { type CookieChain, issueCookie, newChain, purgeExpiredCookies, redeemCookie } from "./cookies.ts";
import type { X2goParams } from "./form.ts";
import { log } from "../core/log.ts";

export interface X2goAuth {
  identity: Identity;
  /** The cookie to hand out with this answer (`AUTHID:` / `next-authid`). */
  nextAuthid: string;
}

function quoted(value: string): string {
  return JSON.stringify(value.slice(0, 64));
}

async function authenticateCookie(env: Env, params: X2goParams, clientIp: string | undefined, nowMs: number): Promise<{ identity: Identity; chain: CookieChain }> {
  const chain = params.user === "" ? null : await redeemCookie(env.DB, params.authid, params.user, clientIp, nowMs);
  if (!chain) {
    log.warn(`x2go cookie refused for ${quoted(params.user)}: unknown, spent, expired, or bound to another user or address`);
    throw unauthorized();
  }
  const user = await findUser(env.DB, chain.login);
  const reason = !user ? "user deleted" : user.disabled ? "user disabled" : (await passwordVersion(user.passwordHash)) !== chain.passwordVersion ? "password changed" : null;
  if (reason || !user) {
    log.warn(`x2go cookie refused for ${quoted(chain.login)}: ${reason}`);
    throw unauthorized();
  }
  return { identity: identityOfUser(user), chain };
}

async function authenticateWithPassword(env: Env, params: X2goParams, clientIp: string | undefined, nowMs: number): Promise<{ identity: Identity; chain: CookieChain }> {
  const identity = await authenticatePassword(env, params.user, params.password, clientIp, nowMs);
  const user = await findUser(env.DB, identity.login);
  if (!user) throw unauthorized();
  await purgeExpiredCookies(env.DB, nowMs);
  return { identity, chain: newChain(identity.login, clientIp, await passwordVersion(user.passwordHash), nowMs) };
}

/** The outcome of a request authenticated by its bearer token (see the module comment). */
export function bearerAuth(identity: Identity): X2goAuth {
  return { identity, nextAuthid: "" };
}

/** Authenticates the request and issues the chain's next cookie. */
export async function authenticateX2go(env: Env, params: X2goParams, clientIp: string | undefined, nowMs: number): Promise<X2goAuth> {
  const { identity, chain } =
    params.authid !== "" ? await authenticateCookie(env, params, clientIp, nowMs) : await authenticateWithPassword(env, params, clientIp, nowMs);
  return { identity, nextAuthid: await issueCookie(env.DB, chain) };
}
