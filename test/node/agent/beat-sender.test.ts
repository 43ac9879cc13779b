import { describe, expect, it } from "vitest";
import { createBeatSender } from "../../../agent/beat-sender.ts";
import type { EncodedBody } from "../../../agent/body.ts";
import type { BeatOutcome } from "../../../agent/heartbeat-client.ts";
import type { ChannelError } from "../../../src/channel-protocol.ts";
import type { HeartbeatReply } from "../../../src/protocol.ts";

const encoded = { body: { users: ["alice"] }, text: '{"users":["alice"]}' } as unknown as EncodedBody;
const reply: HeartbeatReply = { status: "up", draining: false, intervalMs: 10_000 };

function setUp(connected: boolean, answer: { ok: true; value: HeartbeatReply } | { ok: false; error: ChannelError }) {
  const onChannel: unknown[] = [];
  const overHttp: string[] = [];
  const lines: string[] = [];
  const channel = {
    connected,
    request: async (method: string, params: unknown) => (onChannel.push({ method, params }), answer),
  } as Parameters<typeof createBeatSender>[0];
  const http = async (text: string): Promise<BeatOutcome> => (overHttp.push(text), { kind: "accepted", reply: { ...reply, intervalMs: 1 } });
  return { send: createBeatSender(channel, http, { log: (line) => lines.push(line) }), onChannel, overHttp, lines };
}

describe("where a heartbeat goes", () => {
  it("goes on the channel while it is open", async () => {
    const { send, onChannel, overHttp } = setUp(true, { ok: true, value: reply });
    expect(await send(encoded, AbortSignal.timeout(1000))).toEqual({ kind: "accepted", reply });
    expect(onChannel).toEqual([{ method: "heartbeat", params: encoded.body }]);
    expect(overHttp).toEqual([]);
  });

  it("goes over HTTP, signed, while the channel is down", async () => {
    const { send, onChannel, overHttp } = setUp(false, { ok: true, value: reply });
    expect(await send(encoded, AbortSignal.timeout(1000))).toMatchObject({ kind: "accepted" });
    expect(onChannel).toEqual([]);
    expect(overHttp).toEqual([encoded.text]);
  });

  it("goes over HTTP at once when the channel does not take it, and says so once", async () => {
    const { send, overHttp, lines } = setUp(true, { ok: false, error: { code: "TIMEOUT", message: "no answer" } });
    await send(encoded, AbortSignal.timeout(1000));
    await send(encoded, AbortSignal.timeout(1000));
    expect(overHttp).toEqual([encoded.text, encoded.text]);
    expect(lines).toEqual(["heartbeat on the channel failed (TIMEOUT: no answer); sending it over HTTP"]);
  });
});
