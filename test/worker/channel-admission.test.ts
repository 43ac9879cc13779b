/**
 * Opening a node's control channel (`GET /v1/agent/channel`): the upgrade is authenticated with
 * the node's key under the heartbeat's rules (audience, freshness, a spent `seq`); a newer channel
 * replaces the older one; removing or re-keying the node closes it at once with a code saying
 * why; the object can be evicted with the channel kept (hibernation) or closed.
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { CHANNEL_CLOSE } from "../../src/channel-protocol.ts";
import { REKEY_AUDIENCE } from "../../src/protocol.ts";
import { admin, beat, call, enrolNode, expectError, listServers, newKeyPair, signBeat, type TestNode } from "./helpers.ts";
import { channelToken, FakeAgent, upgradeChannel } from "./channel/fake-agent.ts";
import { expectUnchanged, snapshotState } from "./hostile/snapshot.ts";

afterEach(() => FakeAgent.closeAll());

async function channelConnected(node: TestNode): Promise<unknown> {
  return (await listServers(node.pool)).find((server) => server.serverId === node.serverId)?.["channelConnected"];
}

async function rekey(node: TestNode): Promise<Response> {
  const keys = await newKeyPair();
  const raw = JSON.stringify({ publicKey: keys.publicJwk, originUrl: `http://127.0.0.1:6080/${node.hostname}` });
  const token = await signBeat(node, raw, { aud: REKEY_AUDIENCE });
  return call("/v1/agent/rekey", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: raw });
}

describe("opening a channel", () => {
  it("accepts an upgrade signed with the node's key, and the server list says the channel is connected", async () => {
    const node = await enrolNode("ch-open");
    expect(await channelConnected(node)).toBe(false);
    const agent = await FakeAgent.open(node);
    expect(await channelConnected(node)).toBe(true);
    agent.ws.close(1000, "done");
    await expect.poll(() => channelConnected(node)).toBe(false);
  });

  it("spends the token's seq: the same upgrade again is refused with 409, an older seq too", async () => {
    const node = await enrolNode("ch-replay");
    const token = await channelToken(node, { seq: 1000 });
    await FakeAgent.open(node, token);
    await expectError(await upgradeChannel(token), 409, "HEARTBEAT_STALE");
    await expectError(await upgradeChannel(await channelToken(node, { seq: 999 })), 409, "HEARTBEAT_STALE");
    // A heartbeat with a seq at or below the channel's is stale too: one counter per node.
    expect((await beat(node, undefined, { seq: 1000 })).status).toBe(409);
  });

  it("refuses forged, expired, foreign and wrongly addressed tokens with 401, changing nothing", async () => {
    const node = await enrolNode("ch-forged");
    const other = await enrolNode("ch-forged-other");
    const nowSeconds = Math.floor(Date.now() / 1000);
    const before = await snapshotState();
    const refused = [
      await channelToken(node, { key: other.privateKey }),
      await channelToken(node, { aud: "broker:heartbeat" }),
      await channelToken(node, { iat: nowSeconds - 600, exp: nowSeconds - 570 }),
      await channelToken(node, { exp: nowSeconds + 3600 }),
      await channelToken(node, { bodyHash: "A".repeat(43) }),
      await channelToken(node, { pool: "ch-no-such-pool" }),
      await channelToken({ ...node, serverId: "srv_nosuchnode000000" }),
      "not-a-jwt",
    ];
    for (const token of refused) await expectError(await upgradeChannel(token), 401, "UNAUTHORIZED");
    await expectError(await upgradeChannel(null), 401, "UNAUTHORIZED");
    expectUnchanged(before, await snapshotState(), "refused channel upgrades");
    expect(await channelConnected(node)).toBe(false);
  });

  it("answers 426 without an upgrade and spends nothing", async () => {
    const node = await enrolNode("ch-no-upgrade");
    const token = await channelToken(node, { seq: 5000 });
    await expectError(await upgradeChannel(token, {}), 426, "UPGRADE_REQUIRED");
    await FakeAgent.open(node, token);
  });

  it("recovers a node its pool object lost from the catalogue, as heartbeats do", async () => {
    const node = await enrolNode("ch-recover");
    await env.POOL.getByName("default").removeNode(node.serverId);
    await FakeAgent.open(node);
    expect(await channelConnected(node)).toBe(true);
  });
});

describe("closing a channel", () => {
  it("replaces the older channel when the node opens a newer one (4001)", async () => {
    const node = await enrolNode("ch-replaced");
    const first = await FakeAgent.open(node);
    const second = await FakeAgent.open(node);
    expect(await first.closed).toEqual({ code: CHANNEL_CLOSE.replaced, reason: "replaced by a newer channel from this node" });
    expect(await channelConnected(node)).toBe(true);
    second.ws.close(1000, "done");
  });

  it("closes the channel at once when the node is removed (4002)", async () => {
    const node = await enrolNode("ch-removed");
    const agent = await FakeAgent.open(node);
    expect((await admin(`/v1/admin/pools/default/servers/${node.serverId}`, "DELETE")).status).toBe(204);
    expect(await agent.closed).toEqual({ code: CHANNEL_CLOSE.removed, reason: "node removed" });
    await expectError(await upgradeChannel(await channelToken(node)), 401, "UNAUTHORIZED");
  });

  it("closes the channel at once when the node is re-keyed (4003), and the old key cannot open another", async () => {
    const node = await enrolNode("ch-rekeyed");
    const agent = await FakeAgent.open(node);
    expect((await rekey(node)).status).toBe(201);
    expect(await agent.closed).toEqual({ code: CHANNEL_CLOSE.rekeyed, reason: "node re-keyed" });
    await expectError(await upgradeChannel(await channelToken(node)), 401, "UNAUTHORIZED");
  });
});

describe("channels and the object's lifecycle", () => {
  it("keeps the channel through an eviction (hibernation): commands still reach the node", async () => {
    const node = await enrolNode("ch-hibernate");
    const agent = await FakeAgent.open(node);
    agent.answers["ping"] = { result: { nowMs: Date.now() } };
    await evictDurableObject(env.POOL.getByName("default"));
    const response = await admin(`/v1/admin/pools/default/servers/${node.serverId}/ping`, "POST");
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await channelConnected(node)).toBe(true);
  });

  it("loses the channel when the object goes away with its sockets (a deploy): the agent sees the close", async () => {
    const node = await enrolNode("ch-evicted");
    const agent = await FakeAgent.open(node);
    await evictDurableObject(env.POOL.getByName("default"), { webSockets: "close" });
    const closed = await agent.closed;
    expect(closed.code).toBeGreaterThanOrEqual(1000);
    expect(await channelConnected(node)).toBe(false);
  });
});
