import { describe, expect, it } from "vitest";
import { type ChannelHandlers, ChannelPeer } from "../../../agent/channel/peer.ts";
import { MAX_PENDING_CHANNEL_REQUESTS } from "../../../src/channel-protocol.ts";
import { ManualTimers } from "./channel-fakes.ts";

const TIMEOUT_MS = 2_000;

function setUp(handlers: ChannelHandlers = {}) {
  const sent: unknown[] = [];
  const lines: string[] = [];
  const timers = new ManualTimers();
  let keepalives = 0;
  const peer = new ChannelPeer(
    { send: (text) => sent.push(JSON.parse(text)), handlers, requestTimeoutMs: TIMEOUT_MS, onKeepalive: () => keepalives++, now: () => 1_700_000_000_123.4, log: (line) => lines.push(line) },
    timers,
  );
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { peer, sent, lines, timers, settle, keepalives: () => keepalives };
}

describe("the broker's requests", () => {
  it("answers ping with the agent's clock", async () => {
    const { peer, sent, settle } = setUp();
    peer.receive(JSON.stringify({ id: 9, method: "ping", params: {} }));
    await settle();
    expect(sent).toEqual([{ id: 9, ok: true, result: { nowMs: 1_700_000_000_123 } }]);
  });

  it("hands disconnect to the gateway's handler and answers how many it closed", async () => {
    const calls: unknown[] = [];
    const { peer, sent, settle } = setUp({ disconnect: async (target, reason) => (calls.push({ target, reason }), { closed: 3 }) });
    peer.receive(JSON.stringify({ id: 4, method: "disconnect", params: { target: { user: "alice" }, reason: "user removed" } }));
    await settle();
    expect(calls).toEqual([{ target: { user: "alice" }, reason: "user removed" }]);
    expect(sent).toEqual([{ id: 4, ok: true, result: { closed: 3 } }]);
  });

  it("answers UNAVAILABLE without a gateway, and FAILED when the handler throws", async () => {
    const bare = setUp();
    bare.peer.receive(JSON.stringify({ id: 1, method: "disconnect", params: { target: { sessionId: "s" }, reason: "r" } }));
    await bare.settle();
    expect(bare.sent).toEqual([{ id: 1, ok: false, error: { code: "UNAVAILABLE", message: "this agent serves no relayed connections (no gateway)" } }]);
    const failing = setUp({ disconnect: async () => Promise.reject(new Error("registry gone")) });
    failing.peer.receive(JSON.stringify({ id: 2, method: "disconnect", params: { target: { sessionId: "s" }, reason: "r" } }));
    await failing.settle();
    expect(failing.sent).toEqual([{ id: 2, ok: false, error: { code: "FAILED", message: "disconnect failed: registry gone" } }]);
  });

  it.each([
    ["not JSON", "{x", null, "BAD_MESSAGE"],
    ["an unknown method", '{"id":3,"method":"format-disk","params":{}}', 3, "UNKNOWN_METHOD"],
    ["an agent method", '{"id":4,"method":"heartbeat","params":{}}', 4, "UNKNOWN_METHOD"],
    ["a disconnect without a target", '{"id":5,"method":"disconnect","params":{"reason":"r"}}', 5, "BAD_MESSAGE"],
    ["a target naming both a session and a user", '{"id":6,"method":"disconnect","params":{"target":{"sessionId":"s","user":"u"},"reason":"r"}}', 6, "BAD_MESSAGE"],
  ])("answers %s with an error and calls no handler", async (_what, frame, id, code) => {
    let called = false;
    const { peer, sent, settle } = setUp({ disconnect: async () => ((called = true), { closed: 0 }) });
    peer.receive(frame);
    await settle();
    expect(sent).toEqual([{ id, ok: false, error: expect.objectContaining({ code }) }]);
    expect(called).toBe(false);
  });

  it(`handles at most ${MAX_PENDING_CHANNEL_REQUESTS} requests at once`, async () => {
    const { peer, sent, settle } = setUp({ disconnect: () => new Promise(() => undefined) });
    for (let id = 1; id <= MAX_PENDING_CHANNEL_REQUESTS + 1; id++) peer.receive(JSON.stringify({ id, method: "disconnect", params: { target: { user: "u" }, reason: "r" } }));
    await settle();
    expect(sent).toEqual([{ id: MAX_PENDING_CHANNEL_REQUESTS + 1, ok: false, error: expect.objectContaining({ code: "TOO_MANY_PENDING" }) }]);
  });
});

describe("the agent's requests", () => {
  it("matches the answer by id and checks the result's shape", async () => {
    const { peer, sent } = setUp();
    const first = peer.request("ping", {});
    const second = peer.request("ping", {});
    peer.receive(JSON.stringify({ id: 2, ok: true, result: { nowMs: 7 } }));
    peer.receive(JSON.stringify({ id: 1, ok: true, result: { nowMs: "soon" } }));
    expect(await second).toEqual({ ok: true, value: { nowMs: 7 } });
    expect(await first).toEqual({ ok: false, error: { code: "BAD_MESSAGE", message: "the broker answered ping with an invalid result" } });
    expect(sent).toEqual([{ id: 1, method: "ping", params: {} }, { id: 2, method: "ping", params: {} }]);
  });

  it("passes the broker's error on, and times out after requestTimeoutMs", async () => {
    const { peer, timers } = setUp();
    const refused = peer.request("ping", {});
    peer.receive(JSON.stringify({ id: 1, ok: false, error: { code: "UNAVAILABLE", message: "gone" } }));
    expect(await refused).toEqual({ ok: false, error: { code: "UNAVAILABLE", message: "gone" } });
    const silent = peer.request("ping", {});
    timers.fire(TIMEOUT_MS);
    expect(await silent).toEqual({ ok: false, error: { code: "TIMEOUT", message: `the broker did not answer ping within ${TIMEOUT_MS} ms` } });
  });

  it(`keeps at most ${MAX_PENDING_CHANNEL_REQUESTS} unanswered`, async () => {
    const { peer } = setUp();
    for (let index = 0; index < MAX_PENDING_CHANNEL_REQUESTS; index++) void peer.request("ping", {});
    expect(await peer.request("ping", {})).toMatchObject({ ok: false, error: { code: "TOO_MANY_PENDING" } });
  });

  it("ignores answers to nothing and logs the broker's complaints about its own messages", async () => {
    const { peer, sent, lines, keepalives } = setUp();
    peer.receive(JSON.stringify({ id: 77, ok: true, result: {} }));
    peer.receive(JSON.stringify({ id: null, ok: false, error: { code: "BAD_MESSAGE", message: "not JSON" } }));
    peer.receive("pong");
    expect(sent).toEqual([]);
    expect(lines).toEqual(["channel: the broker refused a message: BAD_MESSAGE: not JSON"]);
    expect(keepalives()).toBe(1);
  });
});
