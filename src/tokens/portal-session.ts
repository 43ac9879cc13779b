/**
 * The user's portal session token (audience `broker:portal`, 12 h, like an API session), carried
 * in a cookie by src/portal/session.ts. It holds no secret: who signed in, how, a per-session
 * CSRF token, and a fingerprint of the credential that was used.
 */
import { z } from "zod";
import type { TokenKind } from "./broker-token.ts";

export const PORTAL_AUDIENCE = "broker:portal";
export const PORTAL_LIFETIME_SECONDS = 12 * 60 * 60;

/** How the user signed in: a broker-managed account, or Cloudflare Access / OIDC. */
export type PortalSource = "password" | "oidc";

const portalClaims = {
  src: z.enum(["password", "oidc"]),
  /** The CSRF token every change must echo (form field `_csrf` or header `X-CSRF-Token`). */
  csrf: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** Password-hash fingerprint (as in user sessions); empty for OIDC. */
  cv: z.string().max(64),
};

export const PORTAL_SESSION: TokenKind<typeof portalClaims> = {
  audience: PORTAL_AUDIENCE,
  lifetimeSeconds: PORTAL_LIFETIME_SECONDS,
  clockToleranceSeconds: 30,
  claims: portalClaims,
};
