/**
 * What a node may send on its channel, and what the broker does with it: its own requests
 * (`ping`, a heartbeat) are answered; a frame that is not JSON, not a known method, not the
 * method's shape, or an answer to nothing gets an error response (or nothing) and changes
 * nothing; a frame too large or not text closes the channel. The keepalive is answered by the
 * runtime, and a channel without one for too long stops counting as connected.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { CHANNEL_CLOSE, CHANNEL_KEEPALIVE_REQUEST, CHANNEL_KEEPALIVE_RESPONSE, CHANNEL_STALE_AFTER_MS, MAX_CHANNEL_MESSAGE_BYTES } from "../../src/channel-protocol.ts";
import { admin, enrolNode, expectError, listServers, sampleBody, type TestNode } from "./helpers.ts";
import { FakeAgent } from "./channel/fake-agent.ts";
import { expectUnchanged, snapshotState } from "./hostile/snapshot.ts";

afterEach(() => FakeAgent.closeAll());

async function serverOf(node: TestNode) {
  return (await listServers(node.pool)).find((server) => server.serverId === node.serverId);
}

describe("the agent's own requests", () => {
  it("answers a ping with the broker's time", async () => {
    const agent = await FakeAgent.open(await enrolNode("msg-ping"));
    const id = agent.request("ping", {});
    const answer = await agent.responseTo(id);
    expect(answer).toMatchObject({ id, ok: true, result: { nowMs: expect.any(Number) } });
  });

  it("records a heartbeat sent on the channel like a signed one, without spending a seq", async () => {
    const node = await enrolNode("msg-beat");
    const agent = await FakeAgent.open(node);
    const seqBefore = await runInDurableObject(env.POOL.getByName("default"), (_instance, state) => state.storage.sql.exec<{ last_seq: number }>("SELECT last_seq FROM nodes WHERE server_id = ?", node.serverId).one().last_seq);
    const id = agent.request("heartbeat", sampleBody({ users: ["msg-user"], sessions: [] }));
    expect(await agent.responseTo(id)).toEqual({ id, ok: true, result: { status: "up", draining: false, intervalMs: 10_000 } });
    const viewed = await serverOf(node);
    expect(viewed).toMatchObject({ status: "up", users: ["msg-user"] });
    const seqAfter = await runInDurableObject(env.POOL.getByName("default"), (_instance, state) => state.storage.sql.exec<{ last_seq: number }>("SELECT last_seq FROM nodes WHERE server_id = ?", node.serverId).one().last_seq);
    expect(seqAfter).toBe(seqBefore);
  });
});

describe("frames a node should not send", () => {
  const refusals: Array<[string, string, number | null, string]> = [
    ["not JSON", "{nope", null, "BAD_MESSAGE"],
    ["a JSON array", "[1,2]", null, "BAD_MESSAGE"],
    ["neither a request nor a response", '{"hello":1}', null, "BAD_MESSAGE"],
    ["an unknown method", '{"id":5,"method":"shutdown","params":{}}', 5, "UNKNOWN_METHOD"],
    ["a broker method sent by the agent", '{"id":6,"method":"disconnect","params":{"target":{"user":"x"},"reason":"x"}}', 6, "UNKNOWN_METHOD"],
    ["a request with an extra field", '{"id":7,"method":"ping","params":{},"admin":true}', 7, "BAD_MESSAGE"],
    ["a heartbeat of the wrong shape", '{"id":8,"method":"heartbeat","params":{"loadAvg":"high"}}', 8, "BAD_MESSAGE"],
    ["a request id out of range", '{"id":-1,"method":"ping","params":{}}', null, "BAD_MESSAGE"],
  ];

  it.each(refusals)("answers %s with an error response and changes nothing", async (_what, frame, id, code) => {
    const agent = await FakeAgent.open(await enrolNode(`msg-bad-${refusals.findIndex((entry) => entry[1] === frame)}`));
    const before = await snapshotState();
    agent.ws.send(frame);
    expect(await agent.responseTo(id)).toMatchObject({ id, ok: false, error: { code } });
    expectUnchanged(before, await snapshotState(), frame);
  });

  it("ignores an answer to a request the broker never sent, and another node's answer", async () => {
    const victim = await FakeAgent.open(await enrolNode("msg-victim"));
    victim.answers["ping"] = "silent";
    const intruder = await FakeAgent.open(await enrolNode("msg-intruder"));
    const node = (await listServers()).find((server) => server.hostname === "msg-victim");
    const waiting = admin(`/v1/admin/pools/default/servers/${node?.serverId}/ping`, "POST");
    const sent = await victim.waitFor((message): message is { id: number } => typeof message === "object" && message !== null && "method" in message);
    intruder.ws.send(JSON.stringify({ id: sent.id, ok: true, result: { nowMs: 1 } }));
    intruder.ws.send(JSON.stringify({ id: 424242, ok: true, result: {} }));
    victim.ws.send(JSON.stringify({ id: sent.id, ok: true, result: { nowMs: 2 } }));
    expect((await waiting).status).toBe(200);
    expect(intruder.received).toEqual([]);
  });

  it(`closes the channel (1009) on a frame above ${MAX_CHANNEL_MESSAGE_BYTES} bytes, changing nothing`, async () => {
    const agent = await FakeAgent.open(await enrolNode("msg-huge"));
    const before = await snapshotState();
    agent.ws.send(JSON.stringify({ id: 1, method: "heartbeat", params: { pad: "x".repeat(MAX_CHANNEL_MESSAGE_BYTES) } }));
    expect((await agent.closed).code).toBe(CHANNEL_CLOSE.tooBig);
    expectUnchanged(before, await snapshotState(), "an oversized frame");
  });

  it("closes the channel (1003) on a binary frame", async () => {
    const agent = await FakeAgent.open(await enrolNode("msg-binary"));
    agent.ws.send(new Uint8Array([1, 2, 3]));
    expect((await agent.closed).code).toBe(CHANNEL_CLOSE.unsupportedData);
  });
});

describe("keepalive", () => {
  /** Makes the node's channel look opened `ageMs` ago. */
  async function age(node: TestNode, ageMs: number): Promise<void> {
    await runInDurableObject(env.POOL.getByName(node.pool), (_instance, state) => {
      for (const ws of state.getWebSockets(node.serverId)) ws.serializeAttachment({ ...ws.deserializeAttachment(), openedAtMs: Date.now() - ageMs });
    });
  }

  it("is answered by the runtime with pong", async () => {
    const agent = await FakeAgent.open(await enrolNode("msg-keepalive"));
    agent.ws.send(CHANNEL_KEEPALIVE_REQUEST);
    await agent.waitFor((message): message is string => message === CHANNEL_KEEPALIVE_RESPONSE);
  });

  it("keeps an old channel connected while the keepalive comes, and closes one without it (4004)", async () => {
    const kept = await enrolNode("msg-kept");
    const keptAgent = await FakeAgent.open(kept);
    keptAgent.ws.send(CHANNEL_KEEPALIVE_REQUEST);
    await keptAgent.waitFor((message): message is string => message === CHANNEL_KEEPALIVE_RESPONSE);
    await age(kept, 2 * CHANNEL_STALE_AFTER_MS);
    expect((await serverOf(kept))?.["channelConnected"]).toBe(true);

    const stale = await enrolNode("msg-stale");
    const staleAgent = await FakeAgent.open(stale);
    await age(stale, CHANNEL_STALE_AFTER_MS + 1000);
    expect((await serverOf(stale))?.["channelConnected"]).toBe(false);
    await expectError(await admin(`/v1/admin/pools/default/servers/${stale.serverId}/ping`, "POST"), 409, "NODE_NOT_CONNECTED");
    expect((await staleAgent.closed).code).toBe(CHANNEL_CLOSE.stale);
  });
});
