/**
 * A fleet of simulated nodes for the channel bench: enrolled over HTTP with real Ed25519 keys,
 * each running the agent's real channel client (agent/channel/client.ts over `ws`) against the
 * bench broker. Loopback only; bounded in count.
 */
import { exportJWK, generateKeyPair } from "jose";
import { type ChannelClient, startChannelClient } from "../../agent/channel/client.ts";
import { openWsSocket } from "../../agent/channel/ws-socket.ts";
import { type NodeIdentity, SeqCounter } from "../../agent/token.ts";
import type { LocalBroker } from "../../test/harness/broker.ts";
import { simulatedNodeAddress } from "../lib/sim-node.ts";

export interface FleetNode {
  identity: NodeIdentity;
  /** Shared by the node's heartbeats and its channel, as in the agent. */
  seq: SeqCounter;
  channel: ChannelClient;
}

export async function adminPost(broker: LocalBroker, path: string, body: unknown): Promise<Response> {
  return fetch(`${broker.url}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${broker.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Enrols `count` nodes in `pool` (pre-approved, loopback origins allowed) and returns their identities. */
export async function enrolNodes(broker: LocalBroker, pool: string, count: number): Promise<NodeIdentity[]> {
  const settings = await fetch(`${broker.url}/v1/admin/pools/${pool}`, {
    method: "PATCH",
    headers: { Authorization: `Bearer ${broker.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ allowPrivateOrigins: true, requireApproval: false }),
  });
  if (!settings.ok) throw new Error(`pool settings: ${settings.status} ${await settings.text()}`);
  const identities: NodeIdentity[] = [];
  for (let index = 0; index < count; index++) {
    const { token } = (await (await adminPost(broker, `/v1/admin/pools/${pool}/enrolment-tokens`, { ttlSeconds: 600 })).json()) as { token: string };
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const jwk = await exportJWK(publicKey);
    const enrol = await fetch(`${broker.url}/v1/agent/enrol`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": simulatedNodeAddress(index) },
      body: JSON.stringify({ token, publicKey: { kty: "OKP", crv: "Ed25519", x: jwk.x }, hostname: `${pool}-ch-${index}`, originUrl: `http://127.0.0.1:6080/${pool}-ch-${index}` }),
    });
    if (enrol.status !== 201) throw new Error(`enrol: ${enrol.status} ${await enrol.text()}`);
    const { serverId } = (await enrol.json()) as { serverId: string };
    identities.push({ serverId, pool, privateKey });
  }
  return identities;
}

/** Starts one real channel client per identity (disconnect answers `closed: 0`); resolves once all are open. */
export async function connectFleet(broker: LocalBroker, identities: NodeIdentity[], errors: string[]): Promise<FleetNode[]> {
  const nodes = identities.map((identity) => {
    const seq = new SeqCounter();
    const channel = startChannelClient(
      { brokerUrl: broker.url, identity, seq, requestTimeoutMs: 5000, maxBackoffMs: 5000, handlers: { disconnect: async () => ({ closed: 0 }) } },
      {
        openSocket: openWsSocket,
        setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
        clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
        now: () => Date.now(),
        random: Math.random,
        log: (line) => {
          if (!line.startsWith("channel open")) errors.push(`${identity.serverId}: ${line}`);
        },
      },
    );
    return { identity, seq, channel };
  });
  const deadline = Date.now() + 30_000;
  while (nodes.some((node) => !node.channel.connected)) {
    if (Date.now() > deadline) throw new Error(`${nodes.filter((node) => !node.channel.connected).length} channels did not open within 30 s: ${errors.slice(0, 3).join("; ")}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return nodes;
}
