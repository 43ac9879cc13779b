import { describe, expect, it } from "vitest";
import { MAX_HEARTBEAT_BODY_BYTES } from "../../src/protocol.ts";
import { admin, beat, call, enrolNode, expectError, listServers, newKeyPair, sampleBody, signBeat } from "./helpers.ts";

describe("heartbeats: happy path", () => {
  it("records load, memory, sessions and static data, and answers the interval", async () => {
    const node = await enrolNode("hb-1");
    const response = await beat(node, sampleBody({ staticData: { gpu: true, maxSessions: 20 } }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "up", draining: false, intervalMs: 10_000 });
    const [server] = (await listServers()).filter((s) => s.serverId === node.serverId);
    expect(server).toMatchObject({
      status: "up",
      loadAvg: [0.5, 0.4, 0.3],
      cpuCount: 4,
      memAvailableBytes: 6_000_000_000,
      sessionCount: 1,
      users: ["alice"],
      staticData: { gpu: true, maxSessions: 20 },
    });
    expect(typeof server?.lastSeenAt).toBe("number");
  });
});

describe("heartbeats: refused tokens leave state unchanged", () => {
  async function upNode(hostname: string) {
    const node = await enrolNode(hostname);
    expect((await beat(node)).status).toBe(200);
    return node;
  }

  it("refuses a beat signed with another node's key", async () => {
    const other = await newKeyPair();
    const node = await upNode("hb-other");
    const before = await listServers();
    await expectError(await beat(node, sampleBody({ users: ["mallory"] }), { key: other.privateKey }), 401, "UNAUTHORIZED");
    expect(await listServers()).toEqual(before);
  });

  it("refuses an expired JWT", async () => {
    const node = await upNode("hb-expired");
    const before = await listServers();
    const past = Math.floor(Date.now() / 1000) - 600;
    await expectError(await beat(node, sampleBody(), { iat: past, exp: past + 30 }), 401, "UNAUTHORIZED");
    expect(await listServers()).toEqual(before);
  });

  it("refuses a JWT whose lifetime exceeds 60 s", async () => {
    const node = await upNode("hb-long");
    const now = Math.floor(Date.now() / 1000);
    await expectError(await beat(node, sampleBody(), { iat: now, exp: now + 3600 }), 401, "UNAUTHORIZED");
  });

  it("refuses alg: none", async () => {
    const node = await upNode("hb-none");
    const before = await listServers();
    const raw = JSON.stringify(sampleBody());
    const signed = await signBeat(node, raw);
    const [, payload] = signed.split(".");
    const header = btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "");
    const unsigned = `${header}.${payload}.`;
    const response = await call("/v1/agent/heartbeat", {
      method: "POST",
      headers: { Authorization: `Bearer ${unsigned}`, "Content-Type": "application/json" },
      body: raw,
    });
    await expectError(response, 401, "UNAUTHORIZED");
    expect(await listServers()).toEqual(before);
  });

  it("refuses a wrong audience", async () => {
    const node = await upNode("hb-aud");
    const before = await listServers();
    await expectError(await beat(node, sampleBody(), { aud: "relay" }), 401, "UNAUTHORIZED");
    expect(await listServers()).toEqual(before);
  });

  it("refuses a replayed sequence number with 409 and keeps the first beat's data", async () => {
    const node = await upNode("hb-replay");
    const before = await listServers();
    await expectError(await beat(node, sampleBody({ users: ["eve"] }), { seq: node.seq }), 409, "HEARTBEAT_STALE");
    await expectError(await beat(node, sampleBody({ users: ["eve"] }), { seq: node.seq - 1 }), 409, "HEARTBEAT_STALE");
    expect(await listServers()).toEqual(before);
  });

  it("refuses a token whose body hash does not match the body", async () => {
    const node = await upNode("hb-bh");
    const before = await listServers();
    await expectError(await beat(node, sampleBody(), { bodyHash: "A".repeat(43) }), 401, "UNAUTHORIZED");
    expect(await listServers()).toEqual(before);
  });

  it("refuses a token naming an unknown server or a pool it is not in", async () => {
    const node = await upNode("hb-pool");
    await expectError(await beat(node, sampleBody(), { iss: "srv_AAAAAAAAAAAAAAAAAAAA" }), 401, "UNAUTHORIZED");
    await expectError(await beat(node, sampleBody(), { pool: "other" }), 401, "UNAUTHORIZED");
  });

  it("refuses missing, non-bearer and garbage credentials", async () => {
    const raw = JSON.stringify(sampleBody());
    for (const authorization of [undefined, "Basic abc", "Bearer", "Bearer not.a.jwt"]) {
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      if (authorization) headers.Authorization = authorization;
      await expectError(await call("/v1/agent/heartbeat", { method: "POST", headers, body: raw }), 401, "UNAUTHORIZED");
    }
  });

  it("refuses a beat from a removed node at once", async () => {
    const node = await upNode("hb-removed");
    expect((await admin(`/v1/admin/pools/default/servers/${node.serverId}`, "DELETE")).status).toBe(204);
    await expectError(await beat(node), 401, "UNAUTHORIZED");
    expect((await listServers()).map((server) => server.serverId)).not.toContain(node.serverId);
  });
});

describe("heartbeats: malformed and oversized bodies", () => {
  it.each([
    ["a missing field", (() => { const { cpuCount: _omit, ...rest } = sampleBody(); return rest; })()],
    ["a wrong type", { ...sampleBody(), cpuCount: "four" }],
    ["a bad session state", { ...sampleBody(), sessions: [{ id: "s", user: "u", state: "zombie", startedAt: 0 }] }],
    ["an extra field", { ...sampleBody(), extra: true }],
    ["a negative load", { ...sampleBody(), loadAvg: [-1, 0, 0] }],
    ["a two-element load tuple", { ...sampleBody(), loadAvg: [1, 1] }],
    ["an array body", [1, 2, 3]],
  ])("answers 400 for %s and changes nothing", async (_name, body) => {
    const node = await enrolNode(`hb-bad-${Math.random().toString(36).slice(2, 8)}`);
    await expectError(await beat(node, body), 400, "BAD_REQUEST");
    const [server] = (await listServers()).filter((s) => s.serverId === node.serverId);
    expect(server).toMatchObject({ status: "down", lastSeenAt: null });
  });

  it("answers 400 for a body that is not JSON", async () => {
    const node = await enrolNode("hb-notjson");
    const token = await signBeat(node, "{oops");
    const response = await call("/v1/agent/heartbeat", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: "{oops" });
    await expectError(response, 400, "BAD_REQUEST");
  });

  it("answers 415 for a body that is not declared as JSON", async () => {
    const node = await enrolNode("hb-ctype");
    const raw = JSON.stringify(sampleBody());
    const token = await signBeat(node, raw);
    const response = await call("/v1/agent/heartbeat", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "text/plain" }, body: raw });
    await expectError(response, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers 413 above 64 KiB", async () => {
    const node = await enrolNode("hb-big");
    const body = sampleBody({ metrics: { blob: "x".repeat(200) }, users: Array.from({ length: 400 }, (_, i) => `user-${i}-${"y".repeat(160)}`) });
    expect(JSON.stringify(body).length).toBeGreaterThan(MAX_HEARTBEAT_BODY_BYTES);
    await expectError(await beat(node, body), 413, "PAYLOAD_TOO_LARGE");
  });
});
