/**
 * Relay tickets: broker-signed JWTs (HS256 with SIGNING_KEY) that let one client open one relay
 * to one server for one session, within a minute. Single use: the `jti` nonce is spent in the
 * pool's Durable Object when the relay is opened.
 */
import { errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { randomToken } from "../core/crypto.ts";
import { poolNameSchema, serverIdSchema } from "../protocol.ts";

export const RELAY_AUDIENCE = "relay";
export const BROKER_ISSUER = "edge-session-broker";
/** A ticket is for connecting now: at most this long. */
export const RELAY_TICKET_LIFETIME_SECONDS = 60;
export const MIN_SIGNING_KEY_LENGTH = 32;

export const relayTicketClaimsSchema = z.object({
  iss: z.literal(BROKER_ISSUER),
  aud: z.literal(RELAY_AUDIENCE),
  sub: z.string().min(1),
  pool: poolNameSchema,
  srv: serverIdSchema,
  /** The session it is for: an existing session's id, or the reservation of a new one. */
  sid: z.string().min(1),
  /** The profile it was issued for, so a failed new session can be placed again within it. */
  prf: z.string().optional(),
  jti: z.string().min(16),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type RelayTicketClaims = z.infer<typeof relayTicketClaimsSchema>;

export interface RelayTicketSubject {
  login: string;
  pool: string;
  serverId: string;
  sessionId: string;
  profileId?: string;
}

export function signingKey(secret: string | undefined): Uint8Array | null {
  if (!secret || secret.length < MIN_SIGNING_KEY_LENGTH) return null;
  return new TextEncoder().encode(secret);
}

export async function issueRelayTicket(key: Uint8Array, subject: RelayTicketSubject, nowMs: number): Promise<{ ticket: string; expiresAt: number }> {
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + RELAY_TICKET_LIFETIME_SECONDS;
  const claims = { pool: subject.pool, srv: subject.serverId, sid: subject.sessionId, ...(subject.profileId ? { prf: subject.profileId } : {}) };
  const ticket = await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(BROKER_ISSUER)
    .setAudience(RELAY_AUDIENCE)
    .setSubject(subject.login)
    .setJti(randomToken(18))
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key);
  return { ticket, expiresAt: exp * 1000 };
}

export type RelayTicketResult = { ok: true; claims: RelayTicketClaims } | { ok: false; reason: string };

/**
 * Checks signature, audience, issuer, lifetime and shape; the caller then checks the server it
 * is about to reach and spends the nonce. Never throws.
 */
export async function verifyRelayTicket(key: Uint8Array, ticket: string, nowMs: number): Promise<RelayTicketResult> {
  try {
    const { payload } = await jwtVerify(ticket, key, {
      algorithms: ["HS256"],
      audience: RELAY_AUDIENCE,
      issuer: BROKER_ISSUER,
      currentDate: new Date(nowMs),
      clockTolerance: 5,
      maxTokenAge: RELAY_TICKET_LIFETIME_SECONDS,
      requiredClaims: ["jti", "iat", "exp", "sub"],
    });
    const claims = relayTicketClaimsSchema.safeParse(payload);
    if (!claims.success) return { ok: false, reason: "bad claims" };
    if (claims.data.exp - claims.data.iat > RELAY_TICKET_LIFETIME_SECONDS) return { ok: false, reason: "lifetime too long" };
    return { ok: true, claims: claims.data };
  } catch (error) {
    return { ok: false, reason: error instanceof errors.JOSEError ? error.code : "malformed" };
  }
}
