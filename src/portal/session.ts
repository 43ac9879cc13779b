/**
 * The portal's sign-in session: a cookie session (src/ui/cookie-session.ts, the dashboard's
 * machinery) of the portal's token kind (src/tokens/portal-session.ts), on path `/`. A password
 * session is bound to the user's password hash and ends when the user is deleted, disabled or
 * re-passworded; an Access / OIDC session stands only while the request carries a valid Access
 * identity of the same login (its groups are read from it on every request).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Identity } from "../auth/identity.ts";
import { identify } from "../auth/user-auth.ts";
import { unauthorized } from "../core/errors.ts";
import { findUser } from "../db/user-queries.ts";
import type { AppEnv, Env } from "../env.ts";
import { PORTAL_SESSION, type PortalSource } from "../tokens/portal-session.ts";
import { passwordVersion } from "../tokens/user-session.ts";
import { type CookieFace, endCookieSession, readCookieSession, startCookieSession } from "../ui/cookie-session.ts";
import { csrfGuard } from "../ui/guard.ts";
import { identityOfUser } from "../users/users.ts";
import { type PortalEnv, type PortalSession, wantsPortalJson } from "./portal-env.ts";

export const PORTAL_COOKIE = "broker_portal";
export const PORTAL_PATH = "/";

/** The Access / OIDC identity the request carries (`Cf-Access-Jwt-Assertion`, or an IdP bearer), or null. */
export async function accessUser(c: Context): Promise<Identity | null> {
  if (!c.req.header("Cf-Access-Jwt-Assertion")) return null;
  const identity = await identify(c as Context<AppEnv>);
  return identity?.source === "oidc" ? identity : null;
}

/** The credential fingerprint for `source` and `login`, with the identity it stands for; null when it no longer stands. */
export async function portalCredential(c: Context, source: PortalSource, login: string): Promise<{ version: string; principal: Identity } | null> {
  if (source === "oidc") {
    const identity = await accessUser(c);
    return identity && identity.login === login ? { version: "", principal: identity } : null;
  }
  const user = await findUser((c.env as Env).DB, login);
  if (!user || user.disabled) return null;
  return { version: await passwordVersion(user.passwordHash), principal: identityOfUser(user) };
}

const PORTAL: CookieFace<typeof PORTAL_SESSION.claims, Identity> = {
  name: "portal",
  cookie: PORTAL_COOKIE,
  path: PORTAL_PATH,
  kind: PORTAL_SESSION,
  bind: (c, _key, source, login) => portalCredential(c, source, login),
};

export function startPortalSession(c: Context, principal: { login: string; source: PortalSource; credential: string }): Promise<boolean> {
  return startCookieSession(c, PORTAL, principal);
}

export function endPortalSession(c: Context, session: PortalSession): Promise<void> {
  return endCookieSession(c, PORTAL, session);
}

/** The request's portal session and the identity it stands for, or null. Never throws. */
export function readPortalSession(c: Context): Promise<{ session: PortalSession; principal: Identity } | null> {
  return readCookieSession(c, PORTAL);
}

/** Requires a portal session; sets `portal` and `identity`. Pages go to the sign-in at `/`, the rest get 401. */
export const requirePortalSession = createMiddleware<PortalEnv>(async (c, next) => {
  const read = await readPortalSession(c);
  if (!read) {
    if (c.req.method === "GET" && !wantsPortalJson(c)) return c.redirect("/", 303);
    throw unauthorized();
  }
  c.set("portal", read.session);
  c.set("identity", read.principal);
  await next();
});

/** The portal's CSRF check: the dashboard's guard on the portal session. */
export const requirePortalCsrf = csrfGuard<PortalEnv>((c) => c.get("portal"));
