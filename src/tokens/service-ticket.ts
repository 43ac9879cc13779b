/**
 * Service tickets: broker-signed tokens that let one client open one tunnel to one TCP service
 * (`ssh`, …) of one server, within a minute, for a profile that offers that service. A kind of
 * its own (audience `relay:service`), so a desktop relay ticket never opens a service and a
 * service ticket never opens a desktop. Single use: the `jti` nonce is spent in the pool's
 * Durable Object when the tunnel is opened, as for relay tickets.
 */
import { z } from "zod";
import { poolNameSchema, serverIdSchema } from "../protocol.ts";
import { serviceNameSchema } from "../tunnels/service-name.ts";
import { signToken, type TokenClaims, type TokenKind } from "./broker-token.ts";

export const SERVICE_TICKET_AUDIENCE = "relay:service";
export const SERVICE_TICKET_LIFETIME_SECONDS = 60;

const serviceTicketClaims = {
  pool: poolNameSchema,
  srv: serverIdSchema,
  svc: serviceNameSchema,
  /** The profile that admitted the user, for the log. */
  prf: z.string().min(1).max(64),
};

export const SERVICE_TICKET: TokenKind<typeof serviceTicketClaims> = {
  audience: SERVICE_TICKET_AUDIENCE,
  lifetimeSeconds: SERVICE_TICKET_LIFETIME_SECONDS,
  clockToleranceSeconds: 5,
  claims: serviceTicketClaims,
};
export type ServiceTicketClaims = TokenClaims<typeof serviceTicketClaims>;

export interface ServiceTicketSubject {
  login: string;
  pool: string;
  serverId: string;
  service: string;
  profileId: string;
}

export async function issueServiceTicket(key: Uint8Array, subject: ServiceTicketSubject, nowMs: number): Promise<{ ticket: string; expiresAt: number }> {
  const claims = { pool: subject.pool, srv: subject.serverId, svc: subject.service, prf: subject.profileId };
  const { token, expiresAt } = await signToken(key, SERVICE_TICKET, subject.login, claims, nowMs);
  return { ticket: token, expiresAt };
}
