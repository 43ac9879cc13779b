/**
 * The browser faces' gatekeepers (the dashboard's, and the portal's too): security headers on
 * every answer, same-origin checks on every change (sign-in included), the session check, and
 * the CSRF token every change must echo.
 */
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { secretsEqual } from "../core/crypto.ts";
import { BrokerError, unauthorized } from "../core/errors.ts";
import { readUiSession } from "./session.ts";
import type { AppEnv } from "../env.ts";
import { formFields, type UiEnv, wantsJson } from "./ui-env.ts";
import { log } from "../core/log.ts";

/** No inline script or style, nothing from elsewhere, never framed. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Sets CSP, framing, sniffing, referrer and caching headers on every dashboard answer. */
export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const headers = c.res.headers;
  headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  headers.set("X-Frame-Options", "DENY");
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("Referrer-Policy", "same-origin");
  if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
});

/**
 * Refuses (403) a change whose `Origin` is missing or not this Worker's own, or that the browser
 * marks as cross-site (`Sec-Fetch-Site`). Safe methods pass.
 */
export const requireSameOrigin = createMiddleware<AppEnv>(async (c, next) => {
  if (!SAFE_METHODS.has(c.req.method)) {
    const origin = c.req.header("Origin");
    const site = c.req.header("Sec-Fetch-Site");
    if (origin !== new URL(c.req.url).origin || (site !== undefined && site !== "same-origin")) {
      log.warn(`dashboard change refused: origin ${JSON.stringify((origin ?? "none").slice(0, 100))}, fetch site ${site ?? "none"}`);
      throw new BrokerError("FORBIDDEN", "cross-site request refused");
    }
  }
  await next();
});

function signInFirst(c: Context): Response {
  if (c.req.method === "GET" && !wantsJson(c)) return c.redirect("/admin/login", 303);
  throw unauthorized();
}

/** Requires a valid dashboard session and sets `ui`; pages redirect to the sign-in, the rest get 401. */
export const requireUiSession = createMiddleware<UiEnv>(async (c, next) => {
  const session = await readUiSession(c);
  if (!session) return signInFirst(c);
  c.set("ui", session);
  await next();
});

/**
 * Requires the CSRF token of the session `sessionOf` reads on every change, as the `X-CSRF-Token`
 * header or the `_csrf` form field (compared in constant time); 403 otherwise. Runs after the
 * session check.
 */
export function csrfGuard<E extends AppEnv>(sessionOf: (c: Context<E>) => { login: string; csrf: string }): MiddlewareHandler<E> {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) {
      const session = sessionOf(c);
      const given = c.req.header("X-CSRF-Token") ?? (await formFields(c))["_csrf"];
      if (!given || !(await secretsEqual(given, session.csrf))) {
        log.warn(`change refused for ${JSON.stringify(session.login.slice(0, 64))}: missing or wrong CSRF token`);
        throw new BrokerError("FORBIDDEN", "missing or wrong CSRF token; reload the page and try again");
      }
    }
    await next();
  };
}

/** The dashboard's CSRF check (`csrfGuard` on its session). */
export const requireCsrfToken = csrfGuard<UiEnv>((c) => c.get("ui"));
