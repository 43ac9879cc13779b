/**
 * Node origins (issue "Nobody takes what is not theirs", item 2): a pool's origin allow-list is
 * checked at enrolment and on every re-key, loopback/private/IP-literal origins need the pool's
 * explicit allowance, and no two nodes hold one origin. The relay side (no request, no Access
 * headers to an origin outside the rules) is tested with a real origin in
 * test/integration/origins.test.ts.
 */
import { describe, expect, it } from "vitest";
import { checkOrigin } from "../../src/cluster/origin-policy.ts";
import { admin, callJson, enrolBody, expectError, newKeyPair } from "./helpers.ts";

async function token(pool: string): Promise<string> {
  const response = await admin(`/v1/admin/pools/${pool}/enrolment-tokens`, "POST", { ttlSeconds: 600, preApproved: true });
  expect(response.status).toBe(201);
  return ((await response.json()) as { token: string }).token;
}

async function enrol(pool: string, hostname: string, originUrl: string): Promise<Response> {
  return callJson("/v1/agent/enrol", "POST", enrolBody(await token(pool), hostname, (await newKeyPair()).publicJwk, { originUrl }));
}

describe("origin rules (pure)", () => {
  const rules = { patterns: ["*.nodes.example.com", "edge.example.org"], allowPrivate: false };
  it.each([
    ["https://n1.nodes.example.com", true],
    ["wss://n1.nodes.example.com/desk", true],
    ["https://edge.example.org:8443", true],
    ["https://a.b.nodes.example.com", false],
    ["https://nodes.example.com", false],
    ["https://evilnodes.example.com", false],
    ["http://n1.nodes.example.com", false],
    ["https://user:pass@n1.nodes.example.com", false],
    ["https://127.0.0.1", false],
    ["https://[::1]", false],
    ["https://169.254.169.254", false],
    ["https://0x7f000001", false],
    ["https://localhost", false],
    ["ftp://n1.nodes.example.com", false],
  ])("%s → %s", (url, allowed) => {
    expect(checkOrigin(url, rules).ok).toBe(allowed);
  });

  it("allows loopback and private origins, plain http included, only when the pool allows them", () => {
    expect(checkOrigin("http://127.0.0.1:6080/desk", { patterns: [], allowPrivate: true }).ok).toBe(true);
    expect(checkOrigin("http://127.0.0.1:6080/desk", { patterns: [], allowPrivate: false }).ok).toBe(false);
    expect(checkOrigin("http://n1.nodes.example.com", { patterns: ["*.nodes.example.com"], allowPrivate: true }).ok).toBe(false);
  });
});

describe("origins at enrolment", () => {
  it("refuses an origin outside the pool's patterns, and a loopback one, with 400, leaving the token unspent", async () => {
    expect((await admin("/v1/admin/pools", "POST", { name: "og-strict", originPatterns: ["*.nodes.example.com"] })).status).toBe(201);
    const spare = await token("og-strict");
    const keys = await newKeyPair();
    await expectError(await callJson("/v1/agent/enrol", "POST", enrolBody(spare, "og-1", keys.publicJwk, { originUrl: "https://og-1.elsewhere.example" })), 400, "BAD_REQUEST");
    await expectError(await callJson("/v1/agent/enrol", "POST", enrolBody(spare, "og-1", keys.publicJwk, { originUrl: "http://127.0.0.1:9/collect" })), 400, "BAD_REQUEST");
    expect((await callJson("/v1/agent/enrol", "POST", enrolBody(spare, "og-1", keys.publicJwk, { originUrl: "https://og-1.nodes.example.com" }))).status).toBe(201);
  });

  it("refuses an origin another node holds, in any spelling, with 409", async () => {
    expect((await admin("/v1/admin/pools", "POST", { name: "og-dup", originPatterns: ["*.nodes.example.com"] })).status).toBe(201);
    expect((await enrol("og-dup", "og-first", "https://desk.nodes.example.com/")).status).toBe(201);
    await expectError(await enrol("og-dup", "og-second", "https://DESK.nodes.example.com"), 409, "CONFLICT");
    const servers = (await (await admin("/v1/admin/pools/og-dup/servers")).json()) as { servers: Array<{ hostname: string }> };
    expect(servers.servers.map((server) => server.hostname)).toEqual(["og-first"]);
  });

  it("refuses a new pool setting that is not a hostname pattern", async () => {
    await expectError(await admin("/v1/admin/pools", "POST", { name: "og-bad", originPatterns: ["https://x.example.com"] }), 400, "BAD_REQUEST");
    await expectError(await admin("/v1/admin/pools", "POST", { name: "og-bad", originPatterns: ["*"] }), 400, "BAD_REQUEST");
  });

  it("marks a node whose origin no longer passes after the admin narrows the rules", async () => {
    expect((await admin("/v1/admin/pools", "POST", { name: "og-narrow", allowPrivateOrigins: true })).status).toBe(201);
    expect((await enrol("og-narrow", "og-local", "http://127.0.0.1:6080/og-local")).status).toBe(201);
    const before = (await (await admin("/v1/admin/pools/og-narrow/servers")).json()) as { servers: Array<{ originAllowed: boolean }> };
    expect(before.servers[0]?.originAllowed).toBe(true);
    expect((await admin("/v1/admin/pools/og-narrow", "PATCH", { allowPrivateOrigins: false })).status).toBe(200);
    const after = (await (await admin("/v1/admin/pools/og-narrow/servers")).json()) as { servers: Array<{ originAllowed: boolean }> };
    expect(after.servers[0]?.originAllowed).toBe(false);
  });
});
