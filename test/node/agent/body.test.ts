import { describe, expect, it } from "vitest";
import { encodeHeartbeatBody, type BodyParts } from "../../../agent/body.ts";
import { heartbeatBodySchema, MAX_HEARTBEAT_BODY_BYTES, type NodeSession } from "../../../src/protocol.ts";

const proc = { loadAvg: [0.5, 0.4, 0.3] as [number, number, number], cpuCount: 4, cpuMhz: 2400, memTotalBytes: 8e9, memAvailableBytes: 6e9 };

function sessions(count: number, idLength = 200): NodeSession[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${i}-`.padEnd(idLength, "x"),
    user: `user${i % 50}`,
    state: i % 2 ? "suspended" : "running",
    startedAt: 1_700_000_000_000 + i,
  }));
}

const parts = (list: NodeSession[], extra: Partial<BodyParts> = {}): BodyParts => ({ proc, sessions: list, staticData: {}, metrics: { collectMs: 3 }, ...extra });
const bytes = (text: string) => Buffer.byteLength(text, "utf8");

describe("heartbeat body", () => {
  it("keeps everything when it fits, with users derived from the sessions", () => {
    const { body, text } = encodeHeartbeatBody(parts(sessions(3)));
    expect(text).toBe(JSON.stringify(body));
    expect(body.sessions).toHaveLength(3);
    expect(body.users).toEqual(["user0", "user1", "user2"]);
    expect(body.metrics).toEqual({ collectMs: 3 });
    expect(heartbeatBodySchema.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it("prefers the users the session source reported", () => {
    expect(encodeHeartbeatBody(parts(sessions(1), { users: ["zoe"] })).body.users).toEqual(["zoe"]);
  });

  it("drops the sessions that do not fit under MAX_HEARTBEAT_BODY_BYTES and says so", () => {
    const all = sessions(900);
    const { body, text } = encodeHeartbeatBody(parts(all));
    expect(bytes(JSON.stringify(parts(all).sessions))).toBeGreaterThan(MAX_HEARTBEAT_BODY_BYTES);
    expect(bytes(text)).toBeLessThanOrEqual(MAX_HEARTBEAT_BODY_BYTES);
    expect(body.sessions.length).toBeGreaterThan(100);
    expect(body.sessions).toEqual(all.slice(0, body.sessions.length));
    expect(body.metrics).toMatchObject({ sessionsTruncated: true, sessionsDropped: 900 - body.sessions.length });
    expect(body.users).toHaveLength(50);
    // As many as fit: one more would not.
    const oneMore = encodeHeartbeatBody(parts(all.slice(0, body.sessions.length + 1)), Number.MAX_SAFE_INTEGER);
    expect(bytes(oneMore.text)).toBeGreaterThan(MAX_HEARTBEAT_BODY_BYTES - 40);
    expect(heartbeatBodySchema.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it("caps the session list at the protocol's 1000 entries", () => {
    const { body } = encodeHeartbeatBody(parts(sessions(1_200, 10)), 1_000_000);
    expect(body.sessions).toHaveLength(1_000);
    expect(body.metrics).toMatchObject({ sessionsTruncated: true, sessionsDropped: 200 });
  });

  it("refuses when even an empty session list does not fit", () => {
    expect(() => encodeHeartbeatBody(parts([], { staticData: { blob: "x".repeat(1_000) } }), 500)).toThrow(/shrink the static data/);
  });
});
