/**
 * Session tokens for broker-managed (password) users: HS256 JWTs signed with SIGNING_KEY,
 * audience `broker:session`, 12 h lifetime. The token is only half the check: on every use the
 * caller re-reads the user from D1 (`sessionUserMismatch`), so deleting or disabling a user, or
 * changing their password, ends their sessions at once.
 */
import { errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { randomToken, sha256Base64Url } from "../core/crypto.ts";
import type { UserRow } from "../db/schema.ts";
import { BROKER_ISSUER } from "./relay-ticket.ts";

export const SESSION_AUDIENCE = "broker:session";
export const SESSION_LIFETIME_SECONDS = 12 * 60 * 60;
export const SESSION_CLOCK_TOLERANCE_SECONDS = 30;

/** The claims of a session token; `groups` and `adm` are as at sign-in (D1 is the authority on use). */
export const sessionClaimsSchema = z.object({
  iss: z.literal(BROKER_ISSUER),
  aud: z.literal(SESSION_AUDIENCE),
  sub: z.string().min(1).max(64),
  groups: z.array(z.string()).max(256),
  adm: z.boolean(),
  /** Fingerprint of the password hash at sign-in: a password change invalidates the token. */
  pwv: z.string().min(1),
  jti: z.string().min(16),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type SessionClaims = z.infer<typeof sessionClaimsSchema>;

export interface IssuedSession {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export type SessionTokenResult = { ok: true; claims: SessionClaims } | { ok: false; reason: string };

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

/** Signs a session token for `user`, valid from `nowMs` for SESSION_LIFETIME_SECONDS. */
export async function issueSessionToken(key: Uint8Array, user: SessionUser, nowMs: number): Promise<IssuedSession> {
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + SESSION_LIFETIME_SECONDS;
  const token = await new SignJWT({ groups: user.groups, adm: user.isAdmin, pwv: await passwordVersion(user.passwordHash) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(BROKER_ISSUER)
    .setAudience(SESSION_AUDIENCE)
    .setSubject(user.login)
    .setJti(randomToken(18))
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key);
  return { token, expiresAt: exp * 1000 };
}

/**
 * Checks the signature (HS256 only), audience, issuer, lifetime (30 s tolerance) and claim
 * shape. Never throws; the reason is for the log, never for the client.
 */
export async function verifySessionToken(key: Uint8Array, token: string, nowMs: number): Promise<SessionTokenResult> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      audience: SESSION_AUDIENCE,
      issuer: BROKER_ISSUER,
      currentDate: new Date(nowMs),
      clockTolerance: SESSION_CLOCK_TOLERANCE_SECONDS,
      // Also refuses an `iat` in the future (beyond the tolerance): the broker never issues one.
      maxTokenAge: SESSION_LIFETIME_SECONDS,
      requiredClaims: ["sub", "jti", "iat", "exp"],
    });
    const claims = sessionClaimsSchema.safeParse(payload);
    if (!claims.success) return { ok: false, reason: "bad claims" };
    if (claims.data.exp - claims.data.iat > SESSION_LIFETIME_SECONDS) return { ok: false, reason: "lifetime too long" };
    return { ok: true, claims: claims.data };
  } catch (error) {
    return { ok: false, reason: error instanceof errors.JOSEError ? error.code : "malformed" };
  }
}

/** Why a verified token no longer speaks for its user, or null if it still does. */
export async function sessionUserMismatch(claims: SessionClaims, user: UserRow | null): Promise<string | null> {
  if (!user) return "user deleted";
  if (user.disabled) return "user disabled";
  if ((await passwordVersion(user.passwordHash)) !== claims.pwv) return "password changed";
  return null;
}
