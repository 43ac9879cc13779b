/**
 * Issuing and redeeming relay tickets. Redeeming checks the ticket (signature, audience,
 * lifetime), that it names the server being reached, and spends its nonce in the pool object,
 * so a ticket opens at most one relay.
 */
import { signingKey, verifyToken } from "../tokens/broker-token.ts";
import { issueRelayTicket, RELAY_TICKET, type RelayTicketClaims, type RelayTicketSubject } from "../tokens/relay-ticket.ts";
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

/**
 * @returns the claims of a valid, unspent ticket for `serverId` and where that server is (null
 * when it left the pool); throws a generic 401 otherwise (the precise reason is logged), and
 * 403 when a valid ticket names another server (the ticket is not spent then).
 */
export async function redeemTicket(env: Env, ticket: string, serverId: string, nowMs: number): Promise<{ claims: RelayTicketClaims; target: RelayTarget | null }> {
  const verdict = await verifyToken(requireSigningKey(env), RELAY_TICKET, ticket, nowMs);
  if (!verdict.ok) {
    log.warn(`relay ticket refused: ${verdict.error}`);
    throw unauthorized();
  }
  const claims = verdict.value;
  if (claims.srv !== serverId) {
    log.warn(`relay ticket for ${claims.srv} presented for ${serverId}`);
    throw new BrokerError("FORBIDDEN", "the ticket is not for this server");
  }
  const admitted = await poolStub(env, claims.pool).admitRelay(claims.jti, claims.exp * 1000, serverId);
  if (!admitted.spent) {
    log.warn(`relay ticket ${claims.jti} reused`);
    throw unauthorized();
  }
  return { claims, target: admitted.target };
}
