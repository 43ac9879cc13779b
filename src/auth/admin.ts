/** Admin authentication: a bearer secret set with `wrangler secret put ADMIN_TOKEN`. */
import { createMiddleware } from "hono/factory";
import { secretsEqual } from "../core/crypto.ts";
import type { AppEnv } from "../env.ts";
import { unauthorized } from "../core/errors.ts";
import { log } from "../core/log.ts";

/** Minimum admin token length: shorter secrets are treated as unset, so nobody is admin. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(header);
  return match?.[1] ?? null;
}

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  const given = bearerToken(c.req.header("Authorization"));
  if (!expected || expected.length < MIN_ADMIN_TOKEN_LENGTH) {
    log.warn("admin request refused: ADMIN_TOKEN is not set (or shorter than 16 chars)");
    throw unauthorized();
  }
  if (!given || !(await secretsEqual(given, expected))) throw unauthorized();
  await next();
});
