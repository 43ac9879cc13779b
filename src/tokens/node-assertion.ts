/**
 * The assertion the relay adds for the node (`X-Broker-Assertion`): a short token naming the user
 * and session, audience `node:<serverId>`, signed with a key derived for that node alone
 * (HMAC-SHA256 of SIGNING_KEY over the serverId). The node receives its key at enrolment
 * (`assertionKey`), so it can verify assertions meant for it and nothing else; one node's key
 * says nothing about another's. The agent verifies with `verifyNodeAssertion`.
 */
import { z } from "zod";
import { toBase64Url } from "../core/crypto.ts";
import type { Result } from "../core/result.ts";
import { signToken, type TokenClaims, type TokenFailure, type TokenKind, verifyToken } from "./broker-token.ts";

export const ASSERTION_LIFETIME_SECONDS = 60;

const assertionClaims = { sid: z.string().min(1).max(256) };
export type NodeAssertionClaims = TokenClaims<typeof assertionClaims>;

/** The token kind of assertions for one node. */
export function nodeAssertionKind(serverId: string): TokenKind<typeof assertionClaims> {
  return { audience: `node:${serverId}`, lifetimeSeconds: ASSERTION_LIFETIME_SECONDS, clockToleranceSeconds: 30, claims: assertionClaims };
}

export async function deriveAssertionKey(signingKey: Uint8Array, serverId: string): Promise<Uint8Array> {
  const hmac = await crypto.subtle.importKey("raw", signingKey, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(`node-assertion:${serverId}`)));
}

export async function assertionKeyForEnrolment(signingKey: Uint8Array, serverId: string): Promise<string> {
  return toBase64Url(await deriveAssertionKey(signingKey, serverId));
}

export async function signNodeAssertion(
  signingKey: Uint8Array,
  subject: { serverId: string; login: string; sessionId: string },
  nowMs: number,
): Promise<string> {
  const key = await deriveAssertionKey(signingKey, subject.serverId);
  return (await signToken(key, nodeAssertionKind(subject.serverId), subject.login, { sid: subject.sessionId }, nowMs)).token;
}

/** Checks an assertion with the node's own key (raw bytes of its base64url `assertionKey`). */
export function verifyNodeAssertion(key: Uint8Array, serverId: string, token: string, nowMs: number): Promise<Result<NodeAssertionClaims, TokenFailure>> {
  return verifyToken(key, nodeAssertionKind(serverId), token, nowMs);
}
