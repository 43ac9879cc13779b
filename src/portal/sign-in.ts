/**
 * Portal sign-in: a broker-managed account (password, throttled by the login guard), or the
 * Cloudflare Access / OIDC identity the request carries. Any enabled user may sign in; every
 * failure is the same generic 401 (429 while throttled), the reason logged only.
 */
import type { Context } from "hono";
import { authenticatePassword } from "../auth/user-auth.ts";
import { unauthorized } from "../core/errors.ts";
import type { PortalSource } from "../tokens/portal-session.ts";
import type { PortalEnv } from "./portal-env.ts";
import { accessUser, portalCredential } from "./session.ts";

export type PortalSignInForm = { method: "password"; login: string; password: string } | { method: "access" };

export async function portalPrincipal(c: Context<PortalEnv>, form: PortalSignInForm): Promise<{ login: string; source: PortalSource; credential: string }> {
  if (form.method === "access") {
    const identity = await accessUser(c);
    if (!identity) throw unauthorized();
    return { login: identity.login, source: "oidc", credential: "" };
  }
  const identity = await authenticatePassword(c.env, form.login, form.password, c.get("clientIp"));
  const bound = await portalCredential(c, "password", identity.login);
  if (!bound) throw unauthorized();
  return { login: identity.login, source: "password", credential: bound.version };
}
