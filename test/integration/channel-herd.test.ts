/**
 * 200 agents' control channels (the agent's real channel client over `ws`, in this process)
 * against the broker under `wrangler dev`, through a TCP switch. Twice every channel goes at
 * once: first as when the pool object restarts while the Worker stays up (the switch drops every
 * connection and keeps listening), then as in a deploy (the switch is cut and the broker itself
 * restarts on its persisted state). Each time the agents' attempts to reconnect (when each dials,
 * which is what the backoff decides; how fast the broker then answers is its own matter) must
 * spread over the backoff window instead of arriving in a herd, and every channel must be open
 * again (the broker's server list says so, and a command reaches a node). Loopback only; bounded
 * by the timeouts below.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANNEL_RECONNECT_BASE_MS, type ChannelClient, startChannelClient } from "../../agent/channel/client.ts";
import { openWsSocket } from "../../agent/channel/ws-socket.ts";
import { type NodeIdentity, SeqCounter } from "../../agent/token.ts";
import { type LocalBroker, type ScratchBrokerOptions, scratchBrokerOptions, startBroker } from "../harness/broker.ts";
import { adminCall } from "../harness/client.ts";
import { freePort } from "../harness/ports.ts";
import { waitFor } from "../harness/wait.ts";
import { TcpSwitch } from "./tcp-switch.ts";

const AGENTS = 200;
/** The agents' backoff cap for this test (the default is 60 s). */
const MAX_BACKOFF_MS = 4000;
/** How long the broker is unreachable in the deploy case, at least: every agent is at the cap. */
const OUTAGE_MS = 4 * MAX_BACKOFF_MS;

interface Agent {
  identity: NodeIdentity;
  channel: ChannelClient;
  /** When each attempt to open the channel started, and when each "channel open" was logged, epoch ms. */
  attemptedAt: number[];
  openedAt: number[];
}

let workDir: string;
let brokerOptions: ScratchBrokerOptions;
let broker: LocalBroker;
let relay: TcpSwitch;
const agents: Agent[] = [];
const clientErrors: string[] = [];

async function enrol(index: number): Promise<NodeIdentity> {
  const { token } = await adminCall<{ token: string }>(broker, "/v1/admin/pools/default/enrolment-tokens", "POST", { ttlSeconds: 600 });
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const jwk = await exportJWK(publicKey);
  const response = await fetch(`${broker.url}/v1/agent/enrol`, {
    method: "POST",
    // A distinct address per node, so the per-address enrolment limit sees many nodes.
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": `127.1.${index >> 8}.${index & 255}` },
    body: JSON.stringify({ token, publicKey: { kty: "OKP", crv: "Ed25519", x: jwk.x }, hostname: `herd-ch-${index}`, originUrl: `http://127.0.0.1:6080/herd-ch-${index}` }),
  });
  if (response.status !== 201) throw new Error(`enrol: ${response.status} ${await response.text()}`);
  return { serverId: ((await response.json()) as { serverId: string }).serverId, pool: "default", privateKey };
}

function startAgentChannel(identity: NodeIdentity): Agent {
  const agent: Agent = { identity, attemptedAt: [], openedAt: [], channel: null as unknown as ChannelClient };
  agent.channel = startChannelClient(
    { brokerUrl: relay.url, identity, seq: new SeqCounter(), requestTimeoutMs: 3000, maxBackoffMs: MAX_BACKOFF_MS, handlers: { disconnect: async () => ({ closed: 0 }) } },
    {
      openSocket: (url, headers, events, signal) => {
        agent.attemptedAt.push(Date.now());
        return openWsSocket(url, headers, events, signal);
      },
      setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
      clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      now: () => Date.now(),
      random: Math.random,
      log: (line) => {
        if (line.startsWith("channel open")) agent.openedAt.push(Date.now());
        else if (line.startsWith("channel refused")) clientErrors.push(`${identity.serverId}: ${line}`);
      },
    },
  );
  return agent;
}

/** Channels the broker lists as connected. */
async function connectedCount(): Promise<number> {
  const { servers } = await adminCall<{ servers: Array<{ channelConnected: boolean }> }>(broker, "/v1/admin/pools/default/servers");
  return servers.filter((server) => server.channelConnected).length;
}

/**
 * Once every agent reopened its channel: when each made its first attempt after `since` (ms after
 * it, sorted), and when the last channel opened.
 */
async function reconnections(since: number, withinMs: number): Promise<{ attempts: number[]; lastOpenMs: number }> {
  await waitFor(async () => agents.every((agent) => agent.openedAt.some((at) => at >= since)), withinMs, `all ${AGENTS} channels open again`);
  const attempts = agents.map((agent) => (agent.attemptedAt.find((at) => at >= since) ?? Number.NaN) - since).sort((a, b) => a - b);
  return { attempts, lastOpenMs: Math.max(...agents.map((agent) => (agent.openedAt.find((at) => at >= since) ?? Number.NaN) - since)) };
}

/** The most reconnections in any `windowMs`: a herd puts nearly all of them in one. */
function crowd(offsets: number[], windowMs: number): number {
  let most = 0;
  for (const [index, start] of offsets.entries()) most = Math.max(most, offsets.slice(index).filter((offset) => offset < start + windowMs).length);
  return most;
}

function describeSpread(what: string, offsets: number[], bucketMs: number): string {
  const buckets = Array.from({ length: Math.ceil((offsets.at(-1) ?? 0) / bucketMs) + 1 }, (_, bucket) => offsets.filter((offset) => offset >= bucket * bucketMs && offset < (bucket + 1) * bucketMs).length);
  return `${what}: first ${offsets[0]} ms, last ${offsets.at(-1)} ms; per ${bucketMs} ms: [${buckets.join(" ")}]`;
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "broker-channel-herd-"));
  brokerOptions = await scratchBrokerOptions(workDir);
  broker = await startBroker(brokerOptions);
  relay = new TcpSwitch(await freePort(), brokerOptions.port);
  await relay.restore();
  await adminCall(broker, "/v1/admin/pools/default", "PATCH", { allowPrivateOrigins: true, requireApproval: false });
  const identities: NodeIdentity[] = [];
  for (let index = 0; index < AGENTS; index++) identities.push(await enrol(index));
  agents.push(...identities.map(startAgentChannel));
  await waitFor(async () => (await connectedCount()) === AGENTS, 60_000, `${AGENTS} channels connected`);
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.channel.stop()));
  await relay?.cut();
  await broker?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe(`${AGENTS} agents' control channels`, () => {
  it("come back spread over the first backoff window when every channel drops at once (object restart)", async () => {
    const droppedAt = Date.now();
    relay.drop();
    const { attempts, lastOpenMs } = await reconnections(droppedAt, CHANNEL_RECONNECT_BASE_MS + 10_000);
    console.log(`${describeSpread("attempts after every channel dropped", attempts, 100)}; all open after ${lastOpenMs} ms`);
    // Each agent waits uniform [0, 1 s] before its first attempt (timers may fire late on a busy
    // machine); a herd would put all 200 in a few ms.
    expect(attempts.at(-1) ?? Infinity).toBeLessThanOrEqual(CHANNEL_RECONNECT_BASE_MS + 1000);
    expect((attempts.at(-1) ?? 0) - (attempts[0] ?? 0)).toBeGreaterThanOrEqual(0.5 * CHANNEL_RECONNECT_BASE_MS);
    expect(crowd(attempts, 100)).toBeLessThanOrEqual(0.4 * AGENTS);
    await waitFor(async () => (await connectedCount()) === AGENTS, 10_000, "the broker lists every channel connected");
  });

  it("come back spread over the capped backoff window after a deploy (the broker restarts)", async () => {
    const cutAt = Date.now();
    await relay.cut();
    await broker.stop();
    broker = await startBroker(brokerOptions);
    const remaining = cutAt + OUTAGE_MS - Date.now();
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
    await relay.restore();
    const backAt = Date.now();
    const { attempts, lastOpenMs } = await reconnections(backAt, MAX_BACKOFF_MS + 15_000);
    console.log(`${describeSpread(`outage ${backAt - cutAt} ms; first attempts after the broker came back`, attempts, 250)}; all open after ${lastOpenMs} ms`);
    // Each agent's next attempt is the rest of a delay uniform in [0, maxBackoffMs].
    expect(attempts.at(-1) ?? Infinity).toBeLessThanOrEqual(MAX_BACKOFF_MS + 1000);
    expect((attempts.at(-1) ?? 0) - (attempts[0] ?? 0)).toBeGreaterThanOrEqual(0.4 * MAX_BACKOFF_MS);
    expect(crowd(attempts, 200)).toBeLessThanOrEqual(0.4 * AGENTS);
    await waitFor(async () => (await connectedCount()) === AGENTS, 10_000, "the broker lists every channel connected");
    const { rttMs } = await adminCall<{ rttMs: number }>(broker, `/v1/admin/pools/default/servers/${agents[0]?.identity.serverId}/ping`, "POST");
    expect(rttMs).toBeGreaterThanOrEqual(0);
    expect(clientErrors).toEqual([]);
  });
});
