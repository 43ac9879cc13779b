/**
 * Verifies the assertion the broker's relay adds to every connection it passes to this node
 * (`X-Broker-Assertion`) with the node's own `assertionKey` from enrolment; the token rules live
 * in the broker's token modules, shared here. Two kinds exist, each with an audience of its own:
 * a desktop assertion names a session (`node:<serverId>`), a service assertion a TCP service of
 * the node (`node-service:<serverId>`). Single use is the caller's part (the gateway's replay
 * cache), with `jti` and `acceptedUntilMs` from here.
 */
import { decodeJwt } from "jose";
import type { Result } from "../src/core/result.ts";
import { err, ok } from "../src/core/result.ts";
import type { TokenFailure } from "../src/tokens/broker-token.ts";
import { nodeAssertionKind, verifyNodeAssertion } from "../src/tokens/node-assertion.ts";
import { serviceAssertionKind, verifyServiceAssertion } from "../src/tokens/service-assertion.ts";

export interface BrokerAssertion {
  login: string;
  sessionId: string;
  /** The assertion's unique id. */
  jti: string;
  /** `exp`, epoch ms. */
  expiresAtMs: number;
  /** The last moment this assertion would still verify (exp plus the clock tolerance), epoch ms. */
  acceptedUntilMs: number;
}

export async function verifyBrokerAssertion(token: string, assertionKey: string, serverId: string, nowMs: number): Promise<Result<BrokerAssertion, TokenFailure>> {
  const verdict = await verifyNodeAssertion(new Uint8Array(Buffer.from(assertionKey, "base64url")), serverId, token, nowMs);
  if (!verdict.ok) return err(verdict.error);
  const claims = verdict.value;
  const toleranceMs = nodeAssertionKind(serverId).clockToleranceSeconds * 1000;
  return ok({ login: claims.sub, sessionId: claims.sid, jti: claims.jti, expiresAtMs: claims.exp * 1000, acceptedUntilMs: claims.exp * 1000 + toleranceMs });
}

export interface ServiceAssertion extends Omit<BrokerAssertion, "sessionId"> {
  service: string;
}

/** Either kind, told apart by the audience the token claims; each is then verified with its own audience only. */
export type RelayedAssertion = ({ kind: "session" } & BrokerAssertion) | ({ kind: "service" } & ServiceAssertion);

function claimedAudience(token: string): unknown {
  try {
    return decodeJwt(token).aud;
  } catch {
    return undefined;
  }
}

export async function verifyBrokerServiceAssertion(token: string, assertionKey: string, serverId: string, nowMs: number): Promise<Result<ServiceAssertion, TokenFailure>> {
  const verdict = await verifyServiceAssertion(new Uint8Array(Buffer.from(assertionKey, "base64url")), serverId, token, nowMs);
  if (!verdict.ok) return err(verdict.error);
  const claims = verdict.value;
  const toleranceMs = serviceAssertionKind(serverId).clockToleranceSeconds * 1000;
  return ok({ login: claims.sub, service: claims.svc, jti: claims.jti, expiresAtMs: claims.exp * 1000, acceptedUntilMs: claims.exp * 1000 + toleranceMs });
}

/**
 * A desktop or a service assertion for this node. The unverified audience only picks which
 * kind's rules to check; a token of either kind claiming the other's audience fails its
 * signature, and one for another node fails both.
 */
export async function verifyRelayedAssertion(token: string, assertionKey: string, serverId: string, nowMs: number): Promise<Result<RelayedAssertion, TokenFailure>> {
  if (claimedAudience(token) === serviceAssertionKind(serverId).audience) {
    const verdict = await verifyBrokerServiceAssertion(token, assertionKey, serverId, nowMs);
    return verdict.ok ? ok({ kind: "service", ...verdict.value }) : verdict;
  }
  const verdict = await verifyBrokerAssertion(token, assertionKey, serverId, nowMs);
  return verdict.ok ? ok({ kind: "session", ...verdict.value }) : verdict;
}
