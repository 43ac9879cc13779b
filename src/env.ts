/**
 * The Hono environment. Bindings come from `wrangler types` (src/worker-configuration.d.ts,
 * generated, never edited); secrets are not in wrangler.toml, so they are declared here.
 */
export interface Env extends Cloudflare.Env {
  /** Bearer token for the admin API (`wrangler secret put ADMIN_TOKEN`, ≥ 16 chars). */
  ADMIN_TOKEN?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
  };
}
