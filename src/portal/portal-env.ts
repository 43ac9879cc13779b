/** The portal's Hono environment and the helpers its handlers share. */
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import type { CookieSession } from "../ui/cookie-session.ts";
import type { PortalSource } from "../tokens/portal-session.ts";

/** A verified portal session, as handlers see it. */
export type PortalSession = CookieSession<PortalSource>;

/** `AppEnv` plus the verified portal session (set by `requirePortalSession`, with `identity`). */
export interface PortalEnv {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & { portal: PortalSession };
}

export type PortalContext = Context<PortalEnv>;

/** Where the portal's own paths live (the home page itself is `/`). */
export const PORTAL_PREFIX = "/portal";
export const PORTAL_API_PREFIX = `${PORTAL_PREFIX}/api/`;

/** Whether the caller wants JSON: the pages' scripts (`/portal/api/*`) and JSON callers. */
export function wantsPortalJson(c: Context): boolean {
  return c.req.path.startsWith(PORTAL_API_PREFIX) || /\bapplication\/json\b/.test(c.req.header("Accept") ?? "");
}
