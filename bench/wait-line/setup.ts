/**
 * What the wait-line bench stands on: a local IdP (an RS256 key, its JWKS served over loopback
 * HTTP, one signed ID token per user, as Cloudflare Access or any OIDC IdP issues them), the
 * broker started with OIDC_* pointing at it, a pool with one full node that beats with the
 * agent's own signed tokens, a relay profile with a wait line, and users' calls to /v1/sessions
 * and /v1/queue with their IdP token as the bearer. Loopback only; every wait is bounded.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { SeqCounter, signHeartbeatToken } from "../../agent/token.ts";
import { type LocalBroker, startBroker } from "../../test/harness/broker.ts";
import { adminCall } from "../../test/harness/client.ts";
import { enrolSimNode, quietHeartbeatBody, type SimNode } from "../lib/sim-node.ts";

const ISSUER = "https://idp.bench.example";
const AUDIENCE = "edge-broker-bench";
/** The IdP group the profile's ACL admits. */
export const WAITER_GROUP = "bench-waiters";

export interface Idp {
  jwksUrl: string;
  /** How many times the broker fetched the JWKS. */
  fetches(): number;
  /** An ID token for `login` (its `email` claim, the broker's default login claim), valid for an hour. */
  token(login: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startIdp(): Promise<Idp> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "bench-idp", alg: "RS256", use: "sig" }] });
  let fetches = 0;
  const server: Server = createServer((request, response) => {
    fetches++;
    response.writeHead(request.url === "/jwks" ? 200 : 404, { "Content-Type": "application/json", "Cache-Control": "max-age=3600" });
    response.end(request.url === "/jwks" ? jwks : "{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks`,
    fetches: () => fetches,
    token: (login) =>
      new SignJWT({ email: login, groups: [WAITER_GROUP] })
        .setProtectedHeader({ alg: "RS256", kid: "bench-idp" })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(login)
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(privateKey),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The broker in one workerd, with OIDC users from `idp` and its real rate-limit bindings. */
export function startOidcBroker(idp: Idp): Promise<LocalBroker> {
  return startBroker({ vars: { OIDC_ISSUER: ISSUER, OIDC_AUDIENCE: AUDIENCE, OIDC_JWKS_URL: idp.jwksUrl } });
}

export interface NodeSession {
  id: string;
  user: string;
}

/** A node of the bench pool: it reports the sessions it is given and `maxSessions`, beating with its own key. */
export class BenchNode {
  readonly #brokerUrl: string;
  readonly #identity: SimNode;
  readonly #seq = new SeqCounter();
  maxSessions: number;

  constructor(brokerUrl: string, identity: SimNode, maxSessions: number) {
    this.#brokerUrl = brokerUrl;
    this.#identity = identity;
    this.maxSessions = maxSessions;
  }

  get serverId(): string {
    return this.#identity.serverId;
  }

  /** Signs a beat listing `sessions`, then sends it: `sentAt` is taken after signing, just before the request goes out. */
  async beat(sessions: readonly NodeSession[]): Promise<{ sentAt: number; answeredAt: number }> {
    const body = quietHeartbeatBody(sessions, { maxSessions: this.maxSessions });
    const text = JSON.stringify(body);
    const nowMs = Date.now();
    const token = await signHeartbeatToken(this.#identity, text, this.#seq.next(nowMs), nowMs);
    const sentAt = performance.now();
    const response = await fetch(`${this.#brokerUrl}/v1/agent/heartbeat`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: text });
    await response.arrayBuffer();
    const answeredAt = performance.now();
    if (response.status !== 200) throw new Error(`heartbeat of ${this.serverId}: HTTP ${response.status}`);
    return { sentAt, answeredAt };
  }
}

export interface QueueSettings {
  maxLength: number;
  maxWaitSeconds: number;
}

/**
 * A pool with one node holding `holders` sessions out of `maxSessions` (so full when they are
 * equal), and a relay profile `<pool>-desk` with a wait line, open to the IdP group only.
 */
export async function fullPool(broker: LocalBroker, pool: string, holders: readonly NodeSession[], maxSessions: number, queue: QueueSettings): Promise<{ node: BenchNode; profileId: string }> {
  await adminCall(broker, "/v1/admin/pools", "POST", { name: pool, intervalMs: 300_000 });
  const node = new BenchNode(broker.url, await enrolSimNode(broker, { pool, hostname: `${pool}-1` }), maxSessions);
  await node.beat(holders);
  const profileId = `${pool}-desk`;
  const acl = { groups: { allow: [WAITER_GROUP], deny: [] } };
  await adminCall(broker, "/v1/admin/profiles", "POST", { id: profileId, name: "Bench desk", pool, mode: "relay", acl, queue: { enabled: true, ...queue } });
  return { node, profileId };
}

/** A user's call with their IdP token; the parsed body, the status and when the answer was read. */
export async function userCall(brokerUrl: string, token: string, path: string, method = "GET", body?: unknown): Promise<{ status: number; body: Answer; at: number }> {
  const response = await fetch(`${brokerUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const at = performance.now();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Answer, at };
}

/** What /v1/sessions and /v1/queue answer, as far as the bench reads it. */
export interface Answer {
  state?: string;
  serverId?: string;
  relay?: { ticket?: string };
  queued?: { id: string; position: number };
  error?: { code: string; message: string };
}

export interface Waiter {
  login: string;
  token: string;
  queueId: string;
  position: number;
}

/** Starts a session of `profileId` as `login` (with their IdP `token`); expects a place in line (202). */
export async function joinLine(brokerUrl: string, login: string, token: string, profileId: string): Promise<Waiter> {
  const answer = await userCall(brokerUrl, token, "/v1/sessions", "POST", { profileId });
  if (answer.status !== 202 || !answer.body.queued) throw new Error(`start as ${login}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  return { login, token, queueId: answer.body.queued.id, position: answer.body.queued.position };
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
