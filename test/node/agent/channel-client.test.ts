import { exportJWK, importJWK, jwtVerify } from "jose";
import { describe, expect, it, vi } from "vitest";
import { CHANNEL_RECONNECT_BASE_MS, CHANNEL_STABLE_MS, type ChannelClientOptions, startChannelClient } from "../../../agent/channel/client.ts";
import { UpgradeRefused } from "../../../agent/channel/socket.ts";
import { bodyHash, SeqCounter } from "../../../agent/token.ts";
import { CHANNEL_AUDIENCE } from "../../../src/protocol.ts";
import { CHANNEL_CLOSE, CHANNEL_KEEPALIVE_REQUEST, CHANNEL_KEEPALIVE_RESPONSE } from "../../../src/channel-protocol.ts";
import { FakeBroker, ManualTimers } from "./channel-fakes.ts";
import { SERVER_ID, testIdentity } from "./helpers.ts";

const MAX_BACKOFF_MS = 8_000;
const REQUEST_TIMEOUT_MS = 3_000;
const KEEPALIVE_MS = 30_000;

async function setUp(overrides: Partial<ChannelClientOptions> = {}, random: () => number = () => 0.5, known?: Awaited<ReturnType<typeof testIdentity>>) {
  const identity = known ?? (await testIdentity());
  const broker = new FakeBroker();
  const timers = new ManualTimers();
  const clock = { nowMs: 1_700_000_000_000 };
  const lines: string[] = [];
  const seq = new SeqCounter();
  const client = startChannelClient(
    { brokerUrl: "http://broker.test/base/", identity, seq, requestTimeoutMs: REQUEST_TIMEOUT_MS, maxBackoffMs: MAX_BACKOFF_MS, handlers: {}, keepaliveMs: KEEPALIVE_MS, ...overrides },
    { openSocket: broker.openSocket, setTimer: timers.setTimer, clearTimer: timers.clearTimer, now: () => clock.nowMs, random, log: (line) => lines.push(line) },
  );
  /** Fires the pending reconnect timer (`delayMs`) and waits for the attempt to settle. */
  const attempt = async (delayMs: number) => {
    const before = broker.attempts.length;
    timers.fire(delayMs);
    await vi.waitFor(() => expect(broker.attempts.length).toBe(before + 1), { interval: 1 });
    await vi.waitFor(() => expect(timers.pending.length).toBeGreaterThan(0), { interval: 1 });
  };
  return { identity, broker, timers, clock, lines, seq, client, attempt };
}

const jitter = (attempt: number, random = 0.5) => Math.floor(random * (Math.min(MAX_BACKOFF_MS, CHANNEL_RECONNECT_BASE_MS * 2 ** attempt) + 1));
const nearCap = Math.round(MAX_BACKOFF_MS * 0.95);

describe("opening the channel", () => {
  it("upgrades at the broker's channel path with a token the node signed for broker:channel over no body", async () => {
    const { identity, broker, client, clock, attempt } = await setUp();
    await attempt(0);
    expect(client.connected).toBe(true);
    const { url, headers } = broker.attempts[0]!;
    expect(url).toBe("http://broker.test/base/v1/agent/channel");
    const token = headers["Authorization"]!.replace("Bearer ", "");
    const publicKey = await importJWK({ ...(await exportJWK(identity.publicKey)), alg: "EdDSA" }, "EdDSA");
    const { payload } = await jwtVerify(token, publicKey, { audience: CHANNEL_AUDIENCE, issuer: SERVER_ID, currentDate: new Date(clock.nowMs) });
    expect(payload).toMatchObject({ pool: "default", seq: clock.nowMs, bh: bodyHash("") });
    await client.stop();
  });

  it("takes its seq from the agent's one counter, so heartbeats and channel opens never repeat one", async () => {
    const { broker, seq, clock, attempt, client } = await setUp();
    const beatSeq = seq.next(clock.nowMs);
    await attempt(0);
    const { payload } = { payload: JSON.parse(Buffer.from(broker.attempts[0]!.headers["Authorization"]!.split(".")[1]!, "base64url").toString()) as { seq: number } };
    expect(payload.seq).toBe(beatSeq + 1);
    expect(seq.next(clock.nowMs)).toBe(beatSeq + 2);
    await client.stop();
  });
});

describe("reconnecting", () => {
  it("backs off with full jitter after each failure in a row, doubling the window up to maxBackoffMs", async () => {
    const { broker, timers, attempt, client } = await setUp();
    await attempt(0);
    broker.answer = () => new Error("connect ECONNREFUSED");
    broker.last.events.close(1006, "");
    const delays = [jitter(0)];
    for (let failure = 1; failure <= 5; failure++) {
      await attempt(delays.at(-1)!);
      delays.push(jitter(failure));
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    expect(timers.pending).toEqual([4000]);
    await client.stop();
  });

  it("starts the backoff afresh after a channel that stayed open", async () => {
    const { broker, clock, attempt, timers, client } = await setUp();
    await attempt(0);
    broker.last.events.close(1006, "");
    await attempt(jitter(0));
    broker.last.events.close(1006, "");
    expect(timers.pending).toContain(jitter(1));
    await attempt(jitter(1));
    clock.nowMs += CHANNEL_STABLE_MS;
    broker.last.events.close(1001, "going away");
    expect(timers.pending).toContain(jitter(0));
    await client.stop();
  });

  it.each([
    ["the key is refused (401)", new UpgradeRefused(401, "UNAUTHORIZED", "authentication required or invalid")],
    ["the key is refused (403)", new UpgradeRefused(403, "FORBIDDEN", "no")],
  ])("retries about every maxBackoffMs when %s", async (_what, refusal) => {
    const { broker, timers, lines, client } = await setUp();
    broker.answer = () => refusal;
    timers.fire(0);
    await vi.waitFor(() => expect(timers.pending).toEqual([nearCap]));
    expect(lines.at(-1)).toMatch(/^channel refused with HTTP 40[13]: the broker does not accept this node's key/);
    await client.stop();
  });

  it.each([
    ["replaced by a newer channel", CHANNEL_CLOSE.replaced],
    ["removed", CHANNEL_CLOSE.removed],
    ["re-keyed", CHANNEL_CLOSE.rekeyed],
  ])("retries about every maxBackoffMs after the broker closed the channel as %s", async (_what, code) => {
    const { broker, timers, attempt, client } = await setUp();
    await attempt(0);
    broker.last.events.close(code, "bye");
    expect(timers.pending.filter((delay) => delay !== KEEPALIVE_MS)).toEqual([nearCap]);
    await client.stop();
  });

  it("bumps its seq past the broker's after a 409 HEARTBEAT_STALE", async () => {
    const { broker, seq, clock, timers, client } = await setUp();
    broker.answer = (index) => (index === 0 ? new UpgradeRefused(409, "HEARTBEAT_STALE", "stale") : "accept");
    timers.fire(0);
    await vi.waitFor(() => expect(timers.pending).toEqual([jitter(0)]));
    expect(seq.next(clock.nowMs)).toBeGreaterThan(clock.nowMs + 1000);
    await client.stop();
  });

  it("spreads 200 agents that lost their channels at once over the first window instead of a herd", async () => {
    const firstDelays: number[] = [];
    const identity = await testIdentity();
    for (let agent = 0; agent < 200; agent++) {
      const { broker, timers, attempt, client } = await setUp({}, Math.random, identity);
      await attempt(0);
      broker.last.events.close(1006, "");
      firstDelays.push(timers.pending.find((delay) => delay !== KEEPALIVE_MS)!);
      await client.stop();
    }
    const sorted = [...firstDelays].sort((a, b) => a - b);
    expect(sorted.at(-1)).toBeLessThanOrEqual(CHANNEL_RECONNECT_BASE_MS);
    expect(sorted.at(-1)! - sorted[0]!).toBeGreaterThan(0.8 * CHANNEL_RECONNECT_BASE_MS);
    const perTenth = Array.from({ length: 10 }, (_, tenth) => sorted.filter((delay) => delay >= tenth * 100 && delay < (tenth + 1) * 100).length);
    // Uniform: 20 per 100 ms expected; a herd would put ~200 in one. The bound leaves room for chance.
    expect(Math.max(...perTenth)).toBeLessThanOrEqual(45);
  }, 30_000);
});

describe("keepalive", () => {
  it("sends the keepalive every period and drops a connection that does not answer it in time", async () => {
    const { broker, timers, attempt, client, lines } = await setUp();
    await attempt(0);
    const socket = broker.last;
    timers.fire(KEEPALIVE_MS);
    expect(socket.sent).toEqual([CHANNEL_KEEPALIVE_REQUEST]);
    socket.deliver(CHANNEL_KEEPALIVE_RESPONSE);
    expect(timers.pending).toEqual([KEEPALIVE_MS]);
    timers.fire(KEEPALIVE_MS);
    timers.fire(REQUEST_TIMEOUT_MS);
    expect(socket.terminated).toBe(true);
    expect(client.connected).toBe(false);
    expect(lines).toContain(`channel keepalive unanswered for ${REQUEST_TIMEOUT_MS} ms; dropping the connection`);
    expect(timers.pending).toEqual([jitter(0)]);
    await client.stop();
  });
});

describe("requests and stopping", () => {
  it("sends the agent's requests while open, fails them at once while closed or when the channel goes", async () => {
    const { broker, attempt, client } = await setUp();
    expect(await client.request("ping", {})).toEqual({ ok: false, error: { code: "NOT_CONNECTED", message: "the channel is not open" } });
    await attempt(0);
    const answered = client.request("ping", {});
    const sent = broker.last.messages[0] as { id: number };
    expect(sent).toEqual({ id: 1, method: "ping", params: {} });
    broker.last.deliver({ id: sent.id, ok: true, result: { nowMs: 5 } });
    expect(await answered).toEqual({ ok: true, value: { nowMs: 5 } });
    const lost = client.request("ping", {});
    broker.last.events.close(1006, "");
    expect(await lost).toMatchObject({ ok: false, error: { code: "NOT_CONNECTED" } });
    await client.stop();
  });

  it("closes with 1001 on stop and does not reconnect", async () => {
    const { broker, timers, attempt, client } = await setUp();
    await attempt(0);
    await client.stop();
    expect(broker.last.closedWith).toEqual({ code: CHANNEL_CLOSE.goingAway, reason: "agent stopping" });
    broker.last.events.close(1001, "agent stopping");
    expect(timers.pending).toEqual([]);
    expect(client.connected).toBe(false);
  });

  it("closes the channel on a binary frame from the broker (1003)", async () => {
    const { broker, attempt, client } = await setUp();
    await attempt(0);
    broker.last.deliver(new Uint8Array([1, 2, 3]));
    expect(broker.last.closedWith?.code).toBe(CHANNEL_CLOSE.unsupportedData);
    await client.stop();
  });
});
