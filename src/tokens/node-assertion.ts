/**
 * The assertion the relay adds for the node (`X-Broker-Assertion`): a short token naming the user
 * and session, audience `node:<serverId>`, signed with a key of that node's alone: HMAC-SHA256 of
 * SIGNING_KEY over the serverId and a random salt drawn at every enrolment and re-key (kept in
 * the catalogue). The node receives its key at enrolment (`assertionKey`), so it can verify
 * assertions meant for it and nothing else; one node's key says nothing about another's, a
 * re-key retires the old one at once, and the catalogue alone does not reveal any key. The agent
 * verifies with `verifyNodeAssertion`.
 */
import { z } from "zod";
import { toBase64Url, toHex } from "../core/crypto.ts";
import type { Result } from "../core/result.ts";
import { signToken, type TokenClaims, type TokenFailure, type TokenKind, verifyToken } from "./broker-token.ts";

export const ASSERTION_LIFETIME_SECONDS = 60;

const assertionClaims = { sid: z.string().min(1).max(256) };
export type NodeAssertionClaims = TokenClaims<typeof assertionClaims>;

/** The token kind of assertions for one node. */
export function nodeAssertionKind(serverId: string): TokenKind<typeof assertionClaims> {
  return { audience: `node:${serverId}`, lifetimeSeconds: ASSERTION_LIFETIME_SECONDS, clockToleranceSeconds: 30, claims: assertionClaims };
}

/** A fresh salt for a node's assertion key (hex, 128 bits). */
export function newAssertionSalt(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

export async function deriveAssertionKey(signingKey: Uint8Array, serverId: string, salt: string): Promise<Uint8Array> {
  const hmac = await crypto.subtle.importKey("raw", signingKey, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(`node-assertion:${serverId}:${salt}`)));
}

/** The node's key as handed over at enrolment (base64url). */
export async function assertionKeyForEnrolment(signingKey: Uint8Array, serverId: string, salt: string): Promise<string> {
  return toBase64Url(await deriveAssertionKey(signingKey, serverId, salt));
}

export async function signNodeAssertion(
  signingKey: Uint8Array,
  subject: { serverId: string; assertionSalt: string; login: string; sessionId: string },
  nowMs: number,
): Promise<string> {
  const key = await deriveAssertionKey(signingKey, subject.serverId, subject.assertionSalt);
  return (await signToken(key, nodeAssertionKind(subject.serverId), subject.login, { sid: subject.sessionId }, nowMs)).token;
}

/** Checks an assertion with the node's own key (raw bytes of its base64url `assertionKey`). */
export function verifyNodeAssertion(key: Uint8Array, serverId: string, token: string, nowMs: number): Promise<Result<NodeAssertionClaims, TokenFailure>> {
  return verifyToken(key, nodeAssertionKind(serverId), token, nowMs);
}
