/**
 * Verifies the assertion the broker's relay adds to every connection it passes to this node
 * (`X-Broker-Assertion`) with the node's own `assertionKey` from enrolment; the token rules live
 * in the broker's token module, shared here. Single use is the caller's part (the gateway's
 * replay cache), with `jti` and `acceptedUntilMs` from here.
 */
import type { Result } from "../src/core/result.ts";
import { err, ok } from "../src/core/result.ts";
import type { TokenFailure } from "../src/tokens/broker-token.ts";
import { nodeAssertionKind, verifyNodeAssertion } from "../src/tokens/node-assertion.ts";

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
