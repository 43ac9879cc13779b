/**
 * The broker for the relay bench (bench/broker.ts with a SIGNING_KEY, which relay tickets and
 * user sign-in need, and the Worker's direct socket), with a relay profile, users and one node
 * kept up. Loopback only.
 */
import { exportJWK, generateKeyPair } from "jose";
import { signHeartbeatToken } from "../agent/token.ts";
import type { HeartbeatBody } from "../src/protocol.ts";
import { type BenchBroker, startBenchBroker } from "./broker.ts";

const PROFILE_ID = "relay-bench";
const HEARTBEAT_EVERY_MS = 5_000;
/**
 * Session starts are rate-limited per user (src/rate-limit.ts: 60 a minute), and every relay
 * connection needs one; the bench spreads its ~1,000 tickets over this many users, each kept
 * under `TICKETS_PER_USER_PER_MINUTE` in any 60 s.
 */
const USERS = 24;
const TICKETS_PER_USER_PER_MINUTE = 50;

/** The relay bench's broker: signing key for tickets, and the Worker's direct socket too. */
export type RelayBenchBroker = BenchBroker & { workerdPid: number };

async function startRelayBroker(workerdPath: string | undefined): Promise<RelayBenchBroker> {
  const broker = await startBenchBroker({ signingKey: true, ...(workerdPath ? { workerdPath } : {}) });
  if (broker.workerdPid === null) {
    await broker.dispose();
    throw new Error("the relay bench needs the workerd pid");
  }
  return { ...broker, workerdPid: broker.workerdPid };
}

export interface Broker {
  broker: RelayBenchBroker;
  /**
   * A fresh relay URL with its single-use ticket (one `POST /v1/sessions` to `base`; the relay
   * URL in the answer is on the same socket).
   */
  ticketUrl(base: string): Promise<string>;
  stopHeartbeats(): void;
}

async function call(base: string, path: string, init: { method?: string; token?: string; body?: unknown }): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? "POST",
    headers: { "Content-Type": "application/json", ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? "POST"} ${path}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  return text.length > 0 ? JSON.parse(text) : null;
}

function heartbeatBody(): string {
  const body: HeartbeatBody = {
    loadAvg: [0.1, 0.1, 0.1],
    cpuCount: 2,
    cpuMhz: 2400,
    memTotalBytes: 8_000_000_000,
    memAvailableBytes: 6_000_000_000,
    sessions: [],
    users: [],
    staticData: { site: "bench" },
    metrics: {},
  };
  return JSON.stringify(body);
}

/**
 * The broker with users, a relay profile, and one node whose origin is `originUrl`, enrolled
 * and kept `up` by a signed heartbeat every few seconds until `stopHeartbeats`. `workerdPath`:
 * serve it with that workerd binary instead of Miniflare's own.
 */
export async function prepareBroker(originUrl: string, workerdPath?: string): Promise<Broker> {
  const broker = await startRelayBroker(workerdPath);
  try {
    const base = broker.url;
    const admin = broker.adminToken;
    const users: Array<{ token: string; issued: number[] }> = [];
    for (let index = 0; index < USERS; index++) {
      const login = `relay-bench-${index}`;
      const password = `pw-${crypto.randomUUID()}`;
      await call(base, "/v1/admin/users", { token: admin, body: { login, password } });
      const { token } = (await call(base, "/v1/auth/login", { body: { login, password } })) as { token: string };
      users.push({ token, issued: [] });
    }
    await call(base, "/v1/admin/profiles", { token: admin, body: { id: PROFILE_ID, name: "Relay bench", pool: "default", mode: "relay" } });
    const { token: enrolToken } = (await call(base, "/v1/admin/pools/default/enrolment-tokens", { token: admin, body: { ttlSeconds: 600 } })) as { token: string };
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const jwk = await exportJWK(publicKey);
    const { serverId } = (await call(base, "/v1/agent/enrol", {
      body: { token: enrolToken, publicKey: { kty: "OKP", crv: "Ed25519", x: jwk.x }, hostname: "relay-bench-node", originUrl },
    })) as { serverId: string };
    const identity = { serverId, pool: "default", privateKey };
    const body = heartbeatBody();
    let seq = 0;
    const beat = async () => {
      const token = await signHeartbeatToken(identity, body, ++seq, Date.now());
      const response = await fetch(`${base}/v1/agent/heartbeat`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`heartbeat: HTTP ${response.status}`);
    };
    await beat();
    const timer = setInterval(() => beat().catch((error) => console.error(`relay bench: ${error instanceof Error ? error.message : error}`)), HEARTBEAT_EVERY_MS);
    const ticketUrl = async (socket: string) => {
      const now = Date.now();
      for (const user of users) user.issued = user.issued.filter((at) => at > now - 60_000);
      const user = users.reduce((least, candidate) => (candidate.issued.length < least.issued.length ? candidate : least));
      if (user.issued.length >= TICKETS_PER_USER_PER_MINUTE) throw new Error(`more than ${USERS * TICKETS_PER_USER_PER_MINUTE} relay tickets a minute: raise USERS`);
      user.issued.push(now);
      const answer = (await call(socket, "/v1/sessions", { token: user.token, body: { profileId: PROFILE_ID } })) as { relay?: { url: string; ticket: string } };
      if (!answer.relay) throw new Error("POST /v1/sessions answered without a relay");
      return `${answer.relay.url}?ticket=${encodeURIComponent(answer.relay.ticket)}`;
    };
    return { broker, ticketUrl, stopHeartbeats: () => clearInterval(timer) };
  } catch (error) {
    await broker.dispose();
    throw error;
  }
}
