/**
 * The Hono environment. Bindings come from `wrangler types` (src/worker-configuration.d.ts,
 * generated, never edited); secrets are not in wrangler.toml, so they are declared here.
 */
import type { Identity } from "./auth/identity.ts";

export interface Env extends Cloudflare.Env {
  /** Least severe log level written: debug, info (default), warn or error (src/core/log.ts). */
  LOG_LEVEL?: string;
  /** Bearer token for the admin API (`wrangler secret put ADMIN_TOKEN`, ≥ 16 chars). */
  ADMIN_TOKEN?: string;
  /** Key for broker-signed JWTs: user sessions and relay tickets (`wrangler secret put SIGNING_KEY`, ≥ 32 chars). */
  SIGNING_KEY?: string;
  /** Cloudflare Access service token the relay presents to node tunnels (`wrangler secret put`). */
  ACCESS_CLIENT_ID?: string;
  ACCESS_CLIENT_SECRET?: string;
  /** OIDC / Cloudflare Access: issuer, audience and JWKS URL; unset disables the backend. */
  OIDC_ISSUER?: string;
  OIDC_AUDIENCE?: string;
  OIDC_JWKS_URL?: string;
  /** Comma-separated JWS algorithms accepted from the IdP (default "RS256,ES256"). */
  OIDC_ALGORITHMS?: string;
  /** The claim holding the user's groups (default "groups"). */
  OIDC_GROUPS_CLAIM?: string;
  /** The claim holding the login (default "email"). */
  OIDC_LOGIN_CLAIM?: string;
  /** Allowed clock skew for IdP tokens, in seconds (default 60). */
  OIDC_CLOCK_SKEW_SECONDS?: string;
  /** IdP groups whose members are broker admins (comma-separated). */
  OIDC_ADMIN_GROUPS?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Set by `requestContext` for every request. */
    requestId: string;
    /** The client's address (`CF-Connecting-IP`), set by `requestContext`; absent locally. */
    clientIp: string | undefined;
    /** Set by the user-auth middleware. */
    identity: Identity;
  };
}
