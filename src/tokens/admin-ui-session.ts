/**
 * The dashboard's session token (audience `broker:admin-ui`, 8 h), carried in a cookie by
 * src/ui/session.ts. It holds no secret: who signed in, how, a per-session CSRF token, and a
 * fingerprint of the credential that was used.
 */
import { z } from "zod";
import type { TokenKind } from "./broker-token.ts";

export const ADMIN_UI_AUDIENCE = "broker:admin-ui";
export const ADMIN_UI_LIFETIME_SECONDS = 8 * 60 * 60;

/** How the admin signed in: the admin token, a broker admin account, or Cloudflare Access / OIDC. */
export type UiSource = "admin-token" | "password" | "oidc";

const uiSessionClaims = {
  src: z.enum(["admin-token", "password", "oidc"]),
  /** The CSRF token every change must echo (form field `_csrf` or header `X-CSRF-Token`). */
  csrf: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** Credential fingerprint (see `credentialVersion` in src/ui/session.ts); empty for OIDC. */
  cv: z.string().max(64),
};

export const ADMIN_UI_SESSION: TokenKind<typeof uiSessionClaims> = {
  audience: ADMIN_UI_AUDIENCE,
  lifetimeSeconds: ADMIN_UI_LIFETIME_SECONDS,
  clockToleranceSeconds: 30,
  claims: uiSessionClaims,
};
