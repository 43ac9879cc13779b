/** Helpers for workerd tests: call the Worker, enrol nodes with real Ed25519 keys, sign beats. */
import { env, exports } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { sha256Base64Url } from "../../src/core/crypto.ts";
import { type EnrolResponse, HEARTBEAT_AUDIENCE, type HeartbeatBody } from "../../src/protocol.ts";

export const ADMIN_TOKEN = env.ADMIN_TOKEN ?? "";
export const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}` };

export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`https://broker.test${path}`, init));
}

export async function callJson(path: string, method: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, { method, headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
}

export async function admin(path: string, method = "GET", body?: unknown): Promise<Response> {
  return body === undefined ? call(path, { method, headers: ADMIN }) : callJson(path, method, body, ADMIN);
}

/**
 * A pre-approved enrolment token for `pool`. Test nodes have loopback origins
 * (`http://127.0.0.1:6080/<hostname>`), so the pool is first set to allow private origins, as a
 * local cluster's pool must be (production pools list their tunnel hostnames instead).
 */
export async function issueToken(pool = "default", ttlSeconds = 600, options: { preApproved?: boolean } = {}): Promise<string> {
  const allowed = await admin(`/v1/admin/pools/${pool}`, "PATCH", { allowPrivateOrigins: true });
  if (allowed.status !== 200) throw new Error(`pool settings: ${allowed.status} ${await allowed.text()}`);
  const response = await admin(`/v1/admin/pools/${pool}/enrolment-tokens`, "POST", { ttlSeconds, preApproved: options.preApproved ?? true });
  if (response.status !== 201) throw new Error(`token: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

export interface TestNode {
  hostname: string;
  privateKey: CryptoKey;
  publicJwk: { kty: "OKP"; crv: "Ed25519"; x: string };
  serverId: string;
  pool: string;
  seq: number;
}

export async function newKeyPair() {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, publicJwk: { kty: "OKP" as const, crv: "Ed25519" as const, x: jwk.x as string } };
}

export function enrolBody(token: string, hostname: string, publicJwk: TestNode["publicJwk"], extra: Record<string, unknown> = {}) {
  return { token, publicKey: publicJwk, hostname, originUrl: `http://127.0.0.1:6080/${hostname}`, staticData: {}, ...extra };
}

export async function enrolNode(hostname: string, pool = "default", extra: Record<string, unknown> = {}): Promise<TestNode> {
  const keys = await newKeyPair();
  const response = await callJson("/v1/agent/enrol", "POST", enrolBody(await issueToken(pool), hostname, keys.publicJwk, extra));
  if (response.status !== 201) throw new Error(`enrol: ${response.status} ${await response.text()}`);
  const enrolled = (await response.json()) as EnrolResponse;
  return { hostname, ...keys, serverId: enrolled.serverId, pool: enrolled.pool, seq: 0 };
}

export function sampleBody(overrides: Partial<HeartbeatBody> = {}): HeartbeatBody {
  return {
    loadAvg: [0.5, 0.4, 0.3],
    cpuCount: 4,
    cpuMhz: 2400,
    memTotalBytes: 8_000_000_000,
    memAvailableBytes: 6_000_000_000,
    sessions: [{ id: "s-1", user: "alice", state: "running", startedAt: 1_700_000_000_000 }],
    users: ["alice"],
    staticData: { gpu: false },
    metrics: {},
    ...overrides,
  };
}

export interface SignOptions {
  seq?: number;
  iat?: number;
  exp?: number;
  aud?: string;
  iss?: string;
  pool?: string;
  bodyHash?: string;
  key?: CryptoKey;
}

export async function signBeat(node: TestNode, rawBody: string, options: SignOptions = {}): Promise<string> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const seq = options.seq ?? ++node.seq;
  const iat = options.iat ?? nowSeconds;
  return new SignJWT({ pool: options.pool ?? node.pool, seq, bh: options.bodyHash ?? (await sha256Base64Url(rawBody)) })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
    .setIssuer(options.iss ?? node.serverId)
    .setAudience(options.aud ?? HEARTBEAT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(options.exp ?? iat + 30)
    .sign(options.key ?? node.privateKey);
}

export async function beat(node: TestNode, body: unknown = sampleBody(), options: SignOptions = {}): Promise<Response> {
  const raw = JSON.stringify(body);
  const token = await signBeat(node, raw, options);
  return call("/v1/agent/heartbeat", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: raw });
}

export async function listServers(pool = "default") {
  const response = await admin(`/v1/admin/pools/${pool}/servers`);
  return ((await response.json()) as { servers: Array<Record<string, unknown> & { serverId: string; status: string }> }).servers;
}

export async function expectError(response: Response, status: number, code: string): Promise<void> {
  const body = (await response.json()) as { error?: { code?: string; message?: string } };
  if (response.status !== status || body.error?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${response.status} ${JSON.stringify(body)}`);
  }
}

/** Creates a broker-managed user through the admin API and signs it in; returns its bearer token. */
export async function userToken(login: string, groups: string[] = [], password = "correct-horse-battery"): Promise<string> {
  const created = await admin("/v1/admin/users", "POST", { login, password, groups });
  if (created.status !== 201) throw new Error(`create user: ${created.status} ${await created.text()}`);
  const signedIn = await callJson("/v1/auth/login", "POST", { login, password });
  if (signedIn.status !== 200) throw new Error(`sign in: ${signedIn.status} ${await signedIn.text()}`);
  return ((await signedIn.json()) as { token: string }).token;
}

export async function asUser(token: string, path: string, method = "GET", body?: unknown): Promise<Response> {
  const headers = { Authorization: `Bearer ${token}` };
  return body === undefined ? call(path, { method, headers }) : callJson(path, method, body, headers);
}

/** A dashboard session of the admin token: GET and form POST (with the CSRF token) as that admin. */
export async function dashboardSession(): Promise<{ get(path: string): Promise<Response>; post(path: string, form?: Record<string, string>): Promise<Response> }> {
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const headers = { Origin: "https://broker.test", "Content-Type": "application/x-www-form-urlencoded" };
  const signedIn = await call("/admin/login", { method: "POST", headers, body: form({ method: "token", token: ADMIN_TOKEN }), redirect: "manual" });
  const cookie = (signedIn.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
  const page = await (await call("/admin/servers", { headers: { Cookie: cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
  return {
    get: (path) => call(path, { headers: { Cookie: cookie }, redirect: "manual" }),
    post: (path, fields = {}) => call(path, { method: "POST", headers: { ...headers, Cookie: cookie }, body: form({ ...fields, _csrf: csrf }), redirect: "manual" }),
  };
}
