/**
 * Relay tickets: broker-signed tokens that let one client open one relay to one server for one
 * session, within a minute. Single use: the `jti` nonce is spent in the pool's Durable Object
 * when the relay is opened.
 */
import { z } from "zod";
import { poolNameSchema, serverIdSchema } from "../protocol.ts";
import { signToken, type TokenClaims, type TokenKind } from "./broker-token.ts";

export const RELAY_AUDIENCE = "relay";
/** A ticket is for connecting now: at most this long. */
export const RELAY_TICKET_LIFETIME_SECONDS = 60;

const relayClaims = {
  pool: poolNameSchema,
  srv: serverIdSchema,
  /** The session it is for: an existing session's id, or the reservation of a new one. */
  sid: z.string().min(1).max(256),
  /** The profile it was issued for, so a failed new session can be placed again within it. */
  prf: z.string().max(64).optional(),
};

export const RELAY_TICKET: TokenKind<typeof relayClaims> = {
  audience: RELAY_AUDIENCE,
  lifetimeSeconds: RELAY_TICKET_LIFETIME_SECONDS,
  clockToleranceSeconds: 5,
  claims: relayClaims,
};
export type RelayTicketClaims = TokenClaims<typeof relayClaims>;

export interface RelayTicketSubject {
  login: string;
  pool: string;
  serverId: string;
  sessionId: string;
  profileId?: string;
}

export async function issueRelayTicket(key: Uint8Array, subject: RelayTicketSubject, nowMs: number): Promise<{ ticket: string; expiresAt: number }> {
  const claims = { pool: subject.pool, srv: subject.serverId, sid: subject.sessionId, ...(subject.profileId ? { prf: subject.profileId } : {}) };
  const { token, expiresAt } = await signToken(key, RELAY_TICKET, subject.login, claims, nowMs);
  return { ticket: token, expiresAt };
}
