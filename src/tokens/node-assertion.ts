/**
 * The assertion the relay adds for the node: a short JWT (HS256) naming the user and session,
 * signed with a key derived for that node alone (HMAC-SHA256 of SIGNING_KEY over the serverId).
 * The node receives its key at enrolment (`assertionKey`), so it can verify assertions meant
 * for it and nothing else; one node's key says nothing about another's.
 */
import { SignJWT } from "jose";
import { toBase64Url } from "../core/crypto.ts";
import { BROKER_ISSUER } from "./relay-ticket.ts";

export const ASSERTION_LIFETIME_SECONDS = 60;

export function assertionAudience(serverId: string): string {
  return `node:${serverId}`;
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
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ sid: subject.sessionId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(BROKER_ISSUER)
    .setAudience(assertionAudience(subject.serverId))
    .setSubject(subject.login)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_SECONDS)
    .sign(await deriveAssertionKey(signingKey, subject.serverId));
}
