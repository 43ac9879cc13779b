/**
 * Session tokens for broker-managed (password) users: audience `broker:session`, 12 h lifetime.
 * The token is only half the check: on every use the caller re-reads the user from D1
 * (`sessionUserMismatch`), so deleting or disabling a user, or changing their password, ends
 * their sessions at once. A token can be exchanged for a fresh one (`POST /v1/auth/refresh`)
 * until MAX_SIGN_IN_AGE_SECONDS after the password sign-in it descends from (`ath`).
 */
import { z } from "zod";
import { sha256Base64Url } from "../core/crypto.ts";
import type { UserRow } from "../db/schema.ts";
import { type SignedToken, signToken, type TokenClaims, type TokenKind } from "./broker-token.ts";

export const SESSION_AUDIENCE = "broker:session";
export const SESSION_LIFETIME_SECONDS = 12 * 60 * 60;
/** How long refreshes may extend one password sign-in: then the password is asked again. */
export const MAX_SIGN_IN_AGE_SECONDS = 7 * 24 * 60 * 60;

/** `groups` and `adm` are as at sign-in (D1 is the authority on use). */
const sessionClaims = {
  groups: z.array(z.string()).max(256),
  adm: z.boolean(),
  /** Fingerprint of the password hash at sign-in: a password change invalidates the token. */
  pwv: z.string().min(1),
  /** When the password sign-in this token descends from happened (epoch s); absent: its `iat`. */
  ath: z.number().int().optional(),
};

export const USER_SESSION: TokenKind<typeof sessionClaims> = {
  audience: SESSION_AUDIENCE,
  lifetimeSeconds: SESSION_LIFETIME_SECONDS,
  clockToleranceSeconds: 30,
  claims: sessionClaims,
};
export type SessionClaims = TokenClaims<typeof sessionClaims>;

/** A short, non-reversible fingerprint of a stored password hash. */
export async function passwordVersion(passwordHash: string): Promise<string> {
  return (await sha256Base64Url(`session:${passwordHash}`)).slice(0, 22);
}

export interface SessionUser {
  login: string;
  groups: string[];
  isAdmin: boolean;
  passwordHash: string;
}

/**
 * Signs a session token for `user`, valid from `nowMs` for SESSION_LIFETIME_SECONDS (never past
 * MAX_SIGN_IN_AGE_SECONDS after `signedInAtMs`, the password sign-in; default now).
 */
export async function issueSessionToken(key: Uint8Array, user: SessionUser, nowMs: number, signedInAtMs = nowMs): Promise<SignedToken> {
  const ath = Math.floor(signedInAtMs / 1000);
  return signToken(key, USER_SESSION, user.login, { groups: user.groups, adm: user.isAdmin, pwv: await passwordVersion(user.passwordHash), ath }, nowMs);
}

/** Why a verified token no longer speaks for its user, or null if it still does. */
export async function sessionUserMismatch(claims: SessionClaims, user: UserRow | null): Promise<string | null> {
  if (!user) return "user deleted";
  if (user.disabled) return "user disabled";
  if ((await passwordVersion(user.passwordHash)) !== claims.pwv) return "password changed";
  return null;
}
