/**
 * Credentials, genuine and forged, for the hostile suites: broker session tokens with any claim
 * or algorithm, heartbeat JWTs over exact body bytes, relay tickets, and unsigned (`alg: none`)
 * tokens. The genuine ones are signed with the test SIGNING_KEY, exactly as the broker signs.
 */
import { env } from "cloudflare:workers";
import { base64url, exportJWK, generateKeyPair, SignJWT } from "jose";
import { BROKER_ISSUER } from "../../../src/tokens/broker-token.ts";
import { issueRelayTicket, RELAY_AUDIENCE } from "../../../src/tokens/relay-ticket.ts";
import { issueServiceTicket } from "../../../src/tokens/service-ticket.ts";
import { passwordVersion, SESSION_AUDIENCE } from "../../../src/tokens/user-session.ts";
import { sha256Base64Url } from "../../../src/core/crypto.ts";
import { findUser } from "../../../src/db/user-queries.ts";
import { ADMIN_UI_AUDIENCE } from "../../../src/tokens/admin-ui-session.ts";
import { ADMIN_UI_COOKIE, credentialVersion } from "../../../src/ui/session.ts";
import { HEARTBEAT_AUDIENCE } from "../../../src/protocol.ts";
import type { TestNode } from "../helpers.ts";
import { POOL } from "./fixture.ts";

export const SIGNING_KEY = new TextEncoder().encode(env.SIGNING_KEY ?? "");
export const FOREIGN_KEY = new TextEncoder().encode("a-foreign-signing-key-0123456789abcdef");

const nowSeconds = () => Math.floor(Date.now() / 1000);

function encodeJson(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

/** A token with `alg: none` and an empty signature: the claims of `token`, unsigned. */
export function unsigned(token: string): string {
  const [, payload] = token.split(".");
  return `${encodeJson({ alg: "none", typ: "JWT" })}.${payload}.`;
}

/** `token` with its payload replaced, keeping the original header and signature. */
export function withClaims(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split(".");
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload ?? ""))) as Record<string, unknown>;
  return `${header}.${encodeJson({ ...claims, ...changes })}.${signature}`;
}

/** `token`'s header and claims signed again (HS256) with `key`. */
export async function resigned(token: string, key: Uint8Array): Promise<string> {
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(token.split(".")[1] ?? ""))) as Record<string, unknown>;
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key);
}

export interface SessionTokenOptions {
  key?: Uint8Array | CryptoKey;
  alg?: string;
  aud?: string;
  iss?: string;
  iat?: number;
  nbf?: number;
  exp?: number;
  adm?: boolean;
  groups?: string[];
}

/** A broker session token for `login` (its real password fingerprint), signed as `options` say. */
export async function sessionToken(login: string, options: SessionTokenOptions = {}): Promise<string> {
  const user = await findUser(env.DB, login);
  const pwv = user ? await passwordVersion(user.passwordHash) : "no-such-user-password";
  const iat = options.iat ?? nowSeconds();
  const jwt = new SignJWT({ groups: options.groups ?? [], adm: options.adm ?? false, pwv })
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setIssuer(options.iss ?? BROKER_ISSUER)
    .setAudience(options.aud ?? SESSION_AUDIENCE)
    .setSubject(login)
    .setJti(`forged-${crypto.randomUUID()}`)
    .setIssuedAt(iat)
    .setExpirationTime(options.exp ?? iat + 600);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(options.key ?? SIGNING_KEY);
}

export interface BeatTokenOptions {
  seq?: number;
  iat?: number;
  exp?: number;
  nbf?: number;
  aud?: string;
  iss?: string;
  pool?: string;
  alg?: string;
  key?: CryptoKey | Uint8Array;
}

let nextSeq = Date.now();

/** A heartbeat JWT of `node` over the exact `body` bytes (fresh, increasing seq by default). */
export async function beatToken(node: TestNode, body: Uint8Array | string, options: BeatTokenOptions = {}): Promise<string> {
  const iat = options.iat ?? nowSeconds();
  const jwt = new SignJWT({ pool: options.pool ?? node.pool, seq: options.seq ?? ++nextSeq, bh: await sha256Base64Url(body) })
    .setProtectedHeader({ alg: options.alg ?? "EdDSA", typ: "JWT" })
    .setIssuer(options.iss ?? node.serverId)
    .setAudience(options.aud ?? HEARTBEAT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(options.exp ?? iat + 30);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(options.key ?? node.privateKey);
}

/** The node's public key as an HMAC secret: the classic EdDSA-to-HS256 key confusion. */
export function publicKeyAsHmacSecret(node: TestNode): Uint8Array {
  return base64url.decode(node.publicJwk.x);
}

export interface TicketOptions {
  login?: string;
  serverId: string;
  sessionId?: string;
  key?: Uint8Array;
  aud?: string;
  iat?: number;
  nbf?: number;
  exp?: number;
  alg?: string;
}

/** A genuine relay ticket, as the broker issues it. */
export async function genuineTicket(serverId: string, login = "alice", sessionId = "rsv_hostile0000000000"): Promise<string> {
  return (await issueRelayTicket(SIGNING_KEY, { login, pool: POOL, serverId, sessionId }, Date.now())).ticket;
}

/** A genuine service ticket (a tunnel to `ssh`), as the broker issues it, at `nowMs`. */
export async function genuineServiceTicket(serverId: string, login = "alice", nowMs = Date.now()): Promise<string> {
  return (await issueServiceTicket(SIGNING_KEY, { login, pool: POOL, serverId, service: "ssh", profileId: "hx-desk" }, nowMs)).ticket;
}

/** A relay ticket with any claim, key or algorithm. */
export async function forgedTicket(options: TicketOptions): Promise<string> {
  const iat = options.iat ?? nowSeconds();
  const jwt = new SignJWT({ pool: POOL, srv: options.serverId, sid: options.sessionId ?? "rsv_hostile0000000000" })
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setIssuer(BROKER_ISSUER)
    .setAudience(options.aud ?? RELAY_AUDIENCE)
    .setSubject(options.login ?? "alice")
    .setJti(`forged-${crypto.randomUUID()}`)
    .setIssuedAt(iat)
    .setExpirationTime(options.exp ?? iat + 30);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(options.key ?? SIGNING_KEY);
}

/** A fresh Ed25519 key pair that no node enrolled, with its private JWK (for leak checks). */
export async function foreignEd25519(): Promise<{ privateKey: CryptoKey; d: string }> {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk = await exportJWK(privateKey);
  return { privateKey, d: jwk.d ?? "" };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export interface UiSessionOptions {
  key?: Uint8Array;
  alg?: string;
  aud?: string;
  sub?: string;
  iat?: number;
  nbf?: number;
  exp?: number;
}

/**
 * A dashboard session cookie (`name=value`) for the admin token, bound to the current token as
 * the broker binds it; signed, timed and addressed as `options` say.
 */
export async function uiSessionCookie(options: UiSessionOptions = {}): Promise<{ cookie: string; csrf: string }> {
  const csrf = base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  const iat = options.iat ?? nowSeconds();
  const jwt = new SignJWT({ src: "admin-token", csrf, cv: (await credentialVersion(env, SIGNING_KEY, "admin-token", "admin")) ?? "" })
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setIssuer(BROKER_ISSUER)
    .setAudience(options.aud ?? ADMIN_UI_AUDIENCE)
    .setSubject(options.sub ?? "admin")
    .setJti(`forged-${crypto.randomUUID()}`)
    .setIssuedAt(iat)
    .setExpirationTime(options.exp ?? iat + 600);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return { cookie: `${ADMIN_UI_COOKIE}=${await jwt.sign(options.key ?? SIGNING_KEY)}`, csrf };
}
