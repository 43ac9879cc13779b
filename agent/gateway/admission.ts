/**
 * Who a connection is for, from the one thing the gateway trusts: the broker's assertion
 * (`X-Broker-Assertion`), checked with this node's key for audience `node:<serverId>` (a
 * session's desktop) or `node-service:<serverId>` (a TCP service of the node), at most 60 s of
 * life, and single use. `X-Broker-User`, `X-Broker-Session` and `X-Broker-Service` are
 * informational and never read: user, session and service come from the verified claims.
 */
import type { Result } from "../../src/core/result.ts";
import { err, ok } from "../../src/core/result.ts";
import type { TokenFailure } from "../../src/tokens/broker-token.ts";
import { verifyRelayedAssertion } from "../assertion.ts";
import type { ReplayCache } from "./replay-cache.ts";

export const ASSERTION_HEADER = "x-broker-assertion";

/** What the verified assertion admits: one session's desktop, or one service of the node. */
export type Admitted = { kind: "session"; login: string; sessionId: string } | { kind: "service"; login: string; service: string };

/** Why a connection was refused: logged on the node, never told to the caller (it gets 401 or 503). */
export type AdmissionRefusal = "missing" | TokenFailure | "replayed" | "replay-cache-full";

export interface AdmissionOptions {
  serverId: string;
  /** This node's base64url assertion key from enrolment (`node.json`). */
  assertionKey: string;
  replayCache: ReplayCache;
}

export type Admit = (header: string | string[] | undefined, nowMs: number) => Promise<Result<Admitted, AdmissionRefusal>>;

export function createAdmission(options: AdmissionOptions): Admit {
  return async (header, nowMs) => {
    // A repeated header arrives as an array (or joined with ", "): not one assertion, so refused.
    if (typeof header !== "string" || header.length === 0) return err("missing");
    const verdict = await verifyRelayedAssertion(header, options.assertionKey, options.serverId, nowMs);
    if (!verdict.ok) return err(verdict.error);
    const assertion = verdict.value;
    const spent = options.replayCache.spend(assertion.jti, assertion.acceptedUntilMs, nowMs);
    if (spent === "replayed") return err("replayed");
    if (spent === "full") return err("replay-cache-full");
    return ok(assertion.kind === "session" ? { kind: "session", login: assertion.login, sessionId: assertion.sessionId } : { kind: "service", login: assertion.login, service: assertion.service });
  };
}

/** HTTP status for a refusal: the replay cache at its cap is the node being busy, the rest is 401. */
export function refusalStatus(refusal: AdmissionRefusal): 401 | 503 {
  return refusal === "replay-cache-full" ? 503 : 401;
}
