/**
 * Verifies the assertion the broker's relay adds to every connection it passes to this node
 * (`X-Broker-Assertion`) with the node's own `assertionKey` from enrolment; the token rules live
 * in the broker's token module, shared here.
 */
import { verifyNodeAssertion } from "../src/tokens/node-assertion.ts";

export interface BrokerAssertion {
  login: string;
  sessionId: string;
}

export async function verifyBrokerAssertion(token: string, assertionKey: string, serverId: string, nowMs: number): Promise<BrokerAssertion | null> {
  const verdict = await verifyNodeAssertion(new Uint8Array(Buffer.from(assertionKey, "base64url")), serverId, token, nowMs);
  return verdict.ok ? { login: verdict.value.sub, sessionId: verdict.value.sid } : null;
}
