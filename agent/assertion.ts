/**
 * Verifies the assertion the broker's relay adds to every connection it passes to this node
 * (`X-Broker-Assertion`): HS256 with the node's own `assertionKey` from enrolment, audience
 * `node:<serverId>`, lifetime ≤ 60 s. A desktop endpoint (or a proxy in front of it) calls this
 * to be sure a connection came through the broker for the named user and session.
 */
import { jwtVerify } from "jose";

export interface BrokerAssertion {
  login: string;
  sessionId: string;
}

export async function verifyBrokerAssertion(token: string, assertionKey: string, serverId: string, nowMs: number): Promise<BrokerAssertion | null> {
  try {
    const { payload } = await jwtVerify(token, Buffer.from(assertionKey, "base64url"), {
      algorithms: ["HS256"],
      audience: `node:${serverId}`,
      issuer: "edge-session-broker",
      currentDate: new Date(nowMs),
      clockTolerance: 30,
      maxTokenAge: "90s",
      requiredClaims: ["sub", "iat", "exp"],
    });
    if (typeof payload.sub !== "string" || typeof payload["sid"] !== "string") return null;
    return { login: payload.sub, sessionId: payload["sid"] };
  } catch {
    return null;
  }
}
