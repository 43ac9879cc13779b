/**
 * The assertion the relay adds for a node when it opens a tunnel to one of the node's TCP
 * services (`X-Broker-Assertion`, as for desktops): the user and the service name, audience
 * `node-service:<serverId>`, at most 60 s, signed with the node's own assertion key
 * (node-assertion.ts). The audience differs from a desktop assertion's (`node:<serverId>`), so a
 * desktop assertion never verifies as a service one and the other way round: the node gateway
 * takes a connection to a session's desktop or to a service, never one for the other. The agent
 * verifies with `verifyServiceAssertion`. Runtime-neutral (jose and zod only).
 */
import type { Result } from "../core/result.ts";
import { serviceNameSchema } from "../tunnels/service-name.ts";
import { signToken, type TokenClaims, type TokenFailure, type TokenKind, verifyToken } from "./broker-token.ts";
import { ASSERTION_LIFETIME_SECONDS, deriveAssertionKey } from "./node-assertion.ts";

export const SERVICE_ASSERTION_AUDIENCE_PREFIX = "node-service:";

const serviceAssertionClaims = { svc: serviceNameSchema };
export type ServiceAssertionClaims = TokenClaims<typeof serviceAssertionClaims>;

/** The token kind of service assertions for one node. */
export function serviceAssertionKind(serverId: string): TokenKind<typeof serviceAssertionClaims> {
  return { audience: `${SERVICE_ASSERTION_AUDIENCE_PREFIX}${serverId}`, lifetimeSeconds: ASSERTION_LIFETIME_SECONDS, clockToleranceSeconds: 30, claims: serviceAssertionClaims };
}

export async function signServiceAssertion(
  signingKey: Uint8Array,
  subject: { serverId: string; assertionSalt: string; login: string; service: string },
  nowMs: number,
): Promise<string> {
  const key = await deriveAssertionKey(signingKey, subject.serverId, subject.assertionSalt);
  return (await signToken(key, serviceAssertionKind(subject.serverId), subject.login, { svc: subject.service }, nowMs)).token;
}

/** Checks a service assertion with the node's own key (raw bytes of its base64url `assertionKey`). */
export function verifyServiceAssertion(key: Uint8Array, serverId: string, token: string, nowMs: number): Promise<Result<ServiceAssertionClaims, TokenFailure>> {
  return verifyToken(key, serviceAssertionKind(serverId), token, nowMs);
}
