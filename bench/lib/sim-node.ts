/**
 * Simulated nodes for the benches: enrolled through the real HTTP API with an Ed25519 key of
 * their own and a one-time token, beating with the agent's own `signHeartbeatToken`. A bench
 * node reports a fixed live state: 8 CPUs, 32 GB, five sessions (~1 KiB as JSON).
 */
import { exportJWK, generateKeyPair } from "jose";
import { type NodeIdentity, signHeartbeatToken } from "../../agent/token.ts";
import type { HeartbeatBody } from "../../src/protocol.ts";
import { adminCall, type BrokerEndpoint, localEnrolmentToken } from "../../test/harness/client.ts";

export function benchHeartbeatBody(index: number): HeartbeatBody {
  return {
    loadAvg: [0.4 + (index % 7) / 10, 0.5, 0.6],
    cpuCount: 8,
    cpuMhz: 2400,
    memTotalBytes: 32_000_000_000,
    memAvailableBytes: 20_000_000_000 - index * 1_000_000,
    sessions: Array.from({ length: 5 }, (_, i) => ({ id: `s-${index}-${i}`, user: `user${(index * 5 + i) % 1000}`, state: i % 3 === 0 ? "suspended" : "running", startedAt: 1_700_000_000_000 + i })),
    users: Array.from({ length: 5 }, (_, i) => `user${(index * 5 + i) % 1000}`),
    staticData: { site: "bench", maxSessions: 40 },
    metrics: { collectMs: 3 },
  };
}

/** A quiet node's beat (8 CPUs, 32 GB, no load) listing `sessions` as running, with `staticData`. */
export function quietHeartbeatBody(sessions: ReadonlyArray<{ id: string; user: string }>, staticData: HeartbeatBody["staticData"]): HeartbeatBody {
  return {
    loadAvg: [0.5, 0.5, 0.5],
    cpuCount: 8,
    cpuMhz: 2400,
    memTotalBytes: 32_000_000_000,
    memAvailableBytes: 20_000_000_000,
    sessions: sessions.map(({ id, user }) => ({ id, user, state: "running" as const, startedAt: 1_700_000_000_000 })),
    users: [...new Set(sessions.map((session) => session.user))],
    staticData,
    metrics: {},
  };
}

/**
 * A distinct client address for simulated node `index`, sent as `CF-Connecting-IP` so per-address
 * rate limits see many nodes, as they would in a real cluster. Loopback-range strings: a header
 * value only, nothing is sent there.
 */
export function simulatedNodeAddress(index: number): string {
  return `127.1.${(index >> 8) & 255}.${index & 255}`;
}

export interface SimNodeOptions {
  pool: string;
  hostname: string;
  /** The node's desktop endpoint; default `http://127.0.0.1:6080/<hostname>` (origins are unique; nothing listens: fine unless relayed to). */
  originUrl?: string;
  /** Sent as `CF-Connecting-IP` with the enrolment (see `simulatedNodeAddress`). */
  address?: string;
}

/** A simulated node: its heartbeat identity, and the assertion key the broker answered (absent without SIGNING_KEY). */
export type SimNode = NodeIdentity & { assertionKey?: string };

/** Enrols one simulated node with a fresh key and enrolment token; throws unless the broker accepts it. */
export async function enrolSimNode(broker: BrokerEndpoint, options: SimNodeOptions): Promise<SimNode> {
  const token = await localEnrolmentToken(broker, options.pool);
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const jwk = await exportJWK(publicKey);
  const response = await fetch(`${broker.url}/v1/agent/enrol`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(options.address ? { "CF-Connecting-IP": options.address } : {}) },
    body: JSON.stringify({ token, publicKey: { kty: "OKP", crv: "Ed25519", x: jwk.x }, hostname: options.hostname, originUrl: options.originUrl ?? `http://127.0.0.1:6080/${encodeURIComponent(options.hostname)}` }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`enrol ${options.hostname}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  const { serverId, assertionKey } = JSON.parse(text) as { serverId: string; assertionKey?: string };
  return { serverId, pool: options.pool, privateKey, ...(assertionKey ? { assertionKey } : {}) };
}

/** Posts one heartbeat with a ready-signed token; resolves with the HTTP status (the body is read and dropped). */
export async function postHeartbeat(brokerUrl: string, token: string, body: string): Promise<number> {
  const response = await fetch(`${brokerUrl}/v1/agent/heartbeat`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body });
  await response.arrayBuffer();
  return response.status;
}

/** Signs and posts beat number `seq` of `identity`; throws unless it is accepted. */
export async function beatOnce(brokerUrl: string, identity: NodeIdentity, body: string, seq: number): Promise<void> {
  const status = await postHeartbeat(brokerUrl, await signHeartbeatToken(identity, body, seq, Date.now()), body);
  if (status !== 200) throw new Error(`heartbeat ${seq} of ${identity.serverId}: HTTP ${status}`);
}
