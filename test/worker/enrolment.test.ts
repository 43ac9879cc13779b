import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/core/crypto.ts";
import type { EnrolResponse } from "../../src/protocol.ts";
import { admin, beat, call, callJson, enrolBody, enrolNode, expectError, issueToken, listServers, newKeyPair } from "./helpers.ts";

describe("enrolment: happy path", () => {
  it("enrols a node with a one-time token and answers its serverId, pool and interval", async () => {
    const keys = await newKeyPair();
    const token = await issueToken();
    const response = await callJson("/v1/agent/enrol", "POST", enrolBody(token, "ts01", keys.publicJwk, { staticData: { gpu: true } }));
    expect(response.status).toBe(201);
    const body = (await response.json()) as { serverId: string; pool: string; intervalMs: number };
    expect(body.serverId).toMatch(/^srv_/);
    expect(body).toMatchObject({ pool: "default", intervalMs: 10_000, assertionKey: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const servers = await listServers();
    expect(servers.map((server) => server.serverId)).toContain(body.serverId);
    expect(servers[0]).toMatchObject({ hostname: "ts01", status: "down", lastSeenAt: null });
  });

  it("stores only a hash of the enrolment token", async () => {
    const token = await issueToken();
    const rows = await env.DB.prepare("SELECT token_hash FROM enrolment_tokens").all<{ token_hash: string }>();
    expect(rows.results.map((row) => row.token_hash)).toContain(await sha256Hex(token));
    expect(JSON.stringify(rows.results)).not.toContain(token);
  });

  it("a re-key token for the node replaces its key and keeps its serverId", async () => {
    const first = await enrolNode("ts-rekey");
    expect((await beat(first)).status).toBe(200);
    const issued = await admin(`/v1/admin/pools/default/servers/${first.serverId}/rekey-tokens`, "POST", {});
    const token = ((await issued.json()) as { token: string }).token;
    const keys = await newKeyPair();
    const answer = await callJson("/v1/agent/enrol", "POST", enrolBody(token, "ts-rekey", keys.publicJwk));
    expect(((await answer.json()) as EnrolResponse).serverId).toBe(first.serverId);
    await expectError(await beat(first), 401, "UNAUTHORIZED");
    expect((await beat({ ...first, ...keys, seq: 0 })).status).toBe(200);
  });
});

describe("enrolment: refused tokens", () => {
  it("refuses a used token and leaves the first enrolment intact", async () => {
    const token = await issueToken();
    const keys = await newKeyPair();
    expect((await callJson("/v1/agent/enrol", "POST", enrolBody(token, "ts-a", keys.publicJwk))).status).toBe(201);
    const other = await newKeyPair();
    await expectError(await callJson("/v1/agent/enrol", "POST", enrolBody(token, "ts-a", other.publicJwk)), 401, "UNAUTHORIZED");
    await expectError(await callJson("/v1/agent/enrol", "POST", enrolBody(token, "ts-b", other.publicJwk)), 401, "UNAUTHORIZED");
    const hosts = (await listServers()).map((server) => server.hostname);
    expect(hosts).toContain("ts-a");
    expect(hosts).not.toContain("ts-b");
  });

  it("refuses an expired token", async () => {
    const token = await issueToken();
    await env.DB.prepare("UPDATE enrolment_tokens SET expires_at = ? WHERE token_hash = ?").bind(Date.now() - 1, await sha256Hex(token)).run();
    const keys = await newKeyPair();
    await expectError(await callJson("/v1/agent/enrol", "POST", enrolBody(token, "ts-expired", keys.publicJwk)), 401, "UNAUTHORIZED");
    expect((await listServers()).map((server) => server.hostname)).not.toContain("ts-expired");
  });

  it("refuses a forged token with the same generic 401", async () => {
    const keys = await newKeyPair();
    const response = await callJson("/v1/agent/enrol", "POST", enrolBody("enr_forgedforgedforgedforgedforged", "ts-forged", keys.publicJwk));
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(response.status).toBe(401);
    expect(body.error).toMatchObject({ code: "UNAUTHORIZED", message: "authentication required or invalid" });
  });
});

describe("enrolment: bad input", () => {
  const validBody = async () => enrolBody(await issueToken(), "ts-bad", (await newKeyPair()).publicJwk);

  it.each([
    ["a wrong key type", { publicKey: { kty: "RSA", n: "x", e: "AQAB" } }],
    ["a short key", { publicKey: { kty: "OKP", crv: "Ed25519", x: "abc" } }],
    ["a hostname with spaces", { hostname: "bad host" }],
    ["a non-URL origin", { originUrl: "not a url" }],
    ["a file: origin", { originUrl: "file:///etc/passwd" }],
    ["an IPv6 client address", { clientAddress: "[::1]:22" }],
    ["an unknown field", { extra: 1 }],
    ["nested static data", { staticData: { deep: { a: 1 } } }],
  ])("answers 400 for %s and spends no token", async (_name, patch) => {
    const body = { ...(await validBody()), ...patch };
    await expectError(await callJson("/v1/agent/enrol", "POST", body), 400, "BAD_REQUEST");
    const unused = await env.DB.prepare("SELECT COUNT(*) AS n FROM enrolment_tokens WHERE token_hash = ? AND used_at IS NULL")
      .bind(await sha256Hex(body.token))
      .first<{ n: number }>();
    expect(unused?.n).toBe(1);
  });

  it("answers 400 for malformed JSON", async () => {
    const response = await call("/v1/agent/enrol", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{not json" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
  });

  it("answers 413 for an oversized body", async () => {
    const body = { ...(await validBody()), staticData: { big: "x".repeat(70_000) } };
    await expectError(await callJson("/v1/agent/enrol", "POST", body), 413, "PAYLOAD_TOO_LARGE");
  });
});
