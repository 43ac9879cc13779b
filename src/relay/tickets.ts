/**
 * Issuing and redeeming relay tickets (desktops) and service tickets (tunnels to a node's TCP
 * service). Redeeming checks the ticket (signature, audience of its own kind, lifetime), that it
 * names the server being reached, and spends its nonce in the pool object, so a ticket opens at
 * most one relay.
 */
import type { z } from "zod";
import { signingKey, type TokenClaims, type TokenKind, verifyToken } from "../tokens/broker-token.ts";
import { issueRelayTicket, RELAY_TICKET, type RelayTicketClaims, type RelayTicketSubject } from "../tokens/relay-ticket.ts";
import { issueServiceTicket, SERVICE_TICKET, type ServiceTicketClaims, type ServiceTicketSubject } from "../tokens/service-ticket.ts";
import type { Env } from "../env.ts";
import { BrokerError, unauthorized } from "../core/errors.ts";
import { poolStub } from "../pool/pool-gateway.ts";
import type { RelayTarget } from "../pool/projections.ts";
import { log } from "../core/log.ts";

function requireSigningKey(env: Env): Uint8Array {
  const key = signingKey(env.SIGNING_KEY);
  if (!key) {
    log.error("SIGNING_KEY is not set (or shorter than 32 chars): relay tickets are unavailable");
    throw new BrokerError("INTERNAL", "relay tickets are not configured on this broker");
  }
  return key;
}

export async function issueTicket(env: Env, subject: RelayTicketSubject, nowMs: number): Promise<{ ticket: string; expiresAt: number }> {
  return issueRelayTicket(requireSigningKey(env), subject, nowMs);
}

export async function issueServiceTicketFor(env: Env, subject: ServiceTicketSubject, nowMs: number): Promise<{ ticket: string; expiresAt: number }> {
  return issueServiceTicket(requireSigningKey(env), subject, nowMs);
}

/**
 * @returns the claims of a valid, unspent relay ticket for `serverId` and where that server is
 * (null when it left the pool); throws a generic 401 otherwise (the precise reason is logged),
 * and 403 when a valid ticket names another server (the ticket is not spent then).
 */
export function redeemTicket(env: Env, ticket: string, serverId: string, nowMs: number): Promise<{ claims: RelayTicketClaims; target: RelayTarget | null }> {
  return redeem(env, RELAY_TICKET, ticket, serverId, nowMs);
}

/** As `redeemTicket`, for a service ticket: a relay ticket is refused here (401), and a service ticket there. */
export function redeemServiceTicket(env: Env, ticket: string, serverId: string, nowMs: number): Promise<{ claims: ServiceTicketClaims; target: RelayTarget | null }> {
  return redeem(env, SERVICE_TICKET, ticket, serverId, nowMs);
}

/** The claims every ticket kind has: the pool and server it opens. */
type TicketShape = { pool: z.ZodType<string>; srv: z.ZodType<string> } & z.ZodRawShape;

async function redeem<Claims extends TicketShape>(
  env: Env,
  kind: TokenKind<Claims>,
  ticket: string,
  serverId: string,
  nowMs: number,
): Promise<{ claims: TokenClaims<Claims>; target: RelayTarget | null }> {
  const verdict = await verifyToken(requireSigningKey(env), kind, ticket, nowMs);
  if (!verdict.ok) {
    log.warn(`${kind.audience} ticket refused: ${verdict.error}`);
    throw unauthorized();
  }
  // The kind's schema holds `pool` and `srv` (TicketShape); TypeScript cannot see through the mapped type.
  const claims = verdict.value as TokenClaims<Claims> & { pool: string; srv: string };
  if (claims.srv !== serverId) {
    log.warn(`${kind.audience} ticket for ${claims.srv} presented for ${serverId}`);
    throw new BrokerError("FORBIDDEN", "the ticket is not for this server");
  }
  const admitted = await poolStub(env, claims.pool).admitRelay(claims.jti, claims.exp * 1000, serverId);
  if (!admitted.spent) {
    log.warn(`${kind.audience} ticket ${claims.jti} reused`);
    throw unauthorized();
  }
  return { claims, target: admitted.target };
}
