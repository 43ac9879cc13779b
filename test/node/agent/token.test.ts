import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { createHeartbeatClient } from "../../../agent/heartbeat-client.ts";
import { bodyHash, SeqCounter, signHeartbeatToken } from "../../../agent/token.ts";
import { HEARTBEAT_AUDIENCE, heartbeatClaimsSchema } from "../../../src/protocol.ts";
import { POOL, recordingSend, SERVER_ID, testIdentity } from "./helpers.ts";

const bearer = (headers: Record<string, string>) => (headers["Authorization"] ?? "").replace(/^Bearer /, "");

describe("heartbeat JWT", () => {
  it("verifies with the node's public key and carries the protocol's claims", async () => {
    const identity = await testIdentity();
    const body = JSON.stringify({ hello: "wörld" });
    const nowMs = 1_800_000_000_123;
    const token = await signHeartbeatToken(identity, body, 42, nowMs);

    const { payload, protectedHeader } = await jwtVerify(token, identity.publicKey, {
      algorithms: ["EdDSA"],
      audience: HEARTBEAT_AUDIENCE,
      issuer: SERVER_ID,
      currentDate: new Date(nowMs),
    });
    expect(protectedHeader).toEqual({ alg: "EdDSA", typ: "JWT" });
    const claims = heartbeatClaimsSchema.parse(payload);
    expect(claims).toEqual({
      iss: SERVER_ID,
      aud: HEARTBEAT_AUDIENCE,
      pool: POOL,
      iat: 1_800_000_000,
      exp: 1_800_000_030,
      seq: 42,
      bh: bodyHash(body),
    });
  });

  it("binds the exact body bytes sent through bh", async () => {
    const identity = await testIdentity();
    const { send, requests } = recordingSend();
    const client = createHeartbeatClient({ brokerUrl: "http://broker.test/", identity, requestTimeoutMs: 1_000 }, { send, now: Date.now });
    const body = JSON.stringify({ loadAvg: [0.1, 0.2, 0.3], note: "ünïcode" });
    await client(body, new AbortController().signal);

    const [request] = requests;
    expect(request?.url).toBe("http://broker.test/v1/agent/heartbeat");
    expect(request?.headers["Content-Type"]).toBe("application/json");
    expect(request?.body).toBe(body);
    const { payload } = await jwtVerify(bearer(request?.headers ?? {}), identity.publicKey, { audience: HEARTBEAT_AUDIENCE });
    const digest = Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body))).toString("base64url");
    expect(payload["bh"]).toBe(digest);
  });
});

describe("sequence numbers", () => {
  it("start at the clock and stay strictly increasing even if the clock goes back", () => {
    const seq = new SeqCounter();
    const clock = [1_000, 1_000, 999, 500, 2_000, 2_000];
    const values = clock.map((nowMs) => seq.next(nowMs));
    expect(values).toEqual([1_000, 1_001, 1_002, 1_003, 2_000, 2_001]);
  });

  it("jump forward after a stale answer, further each time until one is accepted", () => {
    const seq = new SeqCounter();
    expect(seq.next(5_000)).toBe(5_000);
    seq.bump();
    expect(seq.next(5_000)).toBe(6_001);
    seq.bump();
    expect(seq.next(5_000)).toBe(8_002);
    seq.accepted();
    seq.bump();
    expect(seq.next(5_000)).toBe(9_003);
  });

  it("are strictly increasing across the beats a client sends, and bumped after 409 HEARTBEAT_STALE", async () => {
    const identity = await testIdentity();
    const stale = { error: { code: "HEARTBEAT_STALE", message: "heartbeat sequence number is not above the last accepted one" } };
    const { send, requests } = recordingSend((_, index) =>
      index === 1 ? new Response(JSON.stringify(stale), { status: 409 }) : new Response(JSON.stringify({ status: "up", draining: false, intervalMs: 1000 })),
    );
    const client = createHeartbeatClient({ brokerUrl: "http://b.test", identity, requestTimeoutMs: 1_000 }, { send, now: () => 1_800_000_000_000 });
    const outcomes = [];
    for (let i = 0; i < 4; i += 1) outcomes.push((await client("{}", new AbortController().signal)).kind);
    expect(outcomes).toEqual(["accepted", "stale", "accepted", "accepted"]);

    const seqs = await Promise.all(
      requests.map(async (r) => (await jwtVerify(bearer(r.headers), identity.publicKey, { currentDate: new Date(1_800_000_000_000) })).payload["seq"] as number),
    );
    expect(seqs[1]).toBe(seqs[0]! + 1);
    expect(seqs[2]).toBeGreaterThan(seqs[1]! + 1);
    expect(seqs[3]).toBe(seqs[2]! + 1);
  });
});
