/** Config as data: a pool's configuration exported as JSON and imported elsewhere. */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { ConfigDocumentInput, ImportReport } from "../../src/cluster/config-transfer.ts";
import { ADMIN, admin, asUser, beat, call, callJson, enrolNode, expectError, issueToken, listServers, type TestNode, userToken } from "./helpers.ts";

type Doc = ConfigDocumentInput & { profiles: Array<{ id: string } & Record<string, unknown>> };

const POLICY = { steps: [{ use: "resume" }, { script: "function (input) { return null; }", name: "pass" }, { use: "least-loaded" }] };

let nodeA: TestNode;
let nodeB: TestNode;

async function exportPool(pool: string): Promise<Doc> {
  const response = await admin(`/v1/admin/pools/${pool}/export`);
  expect(response.status).toBe(200);
  return (await response.json()) as Doc;
}

function importPool(pool: string, document: unknown, headers: Record<string, string> = ADMIN): Promise<Response> {
  return callJson(`/v1/admin/pools/${pool}/import`, "POST", document, headers);
}

async function imported(pool: string, document: unknown): Promise<ImportReport> {
  const response = await importPool(pool, document);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as ImportReport;
}

async function poolExists(pool: string): Promise<boolean> {
  return (await admin(`/v1/admin/pools/${pool}`)).status === 200;
}

beforeAll(async () => {
  expect((await admin("/v1/admin/pools", "POST", { name: "src", intervalMs: 5000 })).status).toBe(201);
  nodeA = await enrolNode("ct-a.example", "src");
  nodeB = await enrolNode("ct-b.example", "src");
  expect((await admin(`/v1/admin/pools/src/servers/${nodeA.serverId}/static-data`, "PUT", { staticData: { gpu: true, site: "lab" } })).status).toBe(200);
  expect((await admin(`/v1/admin/pools/src/servers/${nodeB.serverId}/drain`, "POST")).status).toBe(200);
  expect((await admin("/v1/admin/pools/src/policy", "PUT", { policy: POLICY })).status).toBe(200);
  const profiles = [
    { id: "src-desk", name: "Desk", pool: "src", mode: "relay", hosts: [{ name: "ct-a.example" }], policy: { steps: [{ use: "least-loaded" }] }, acl: { users: { allow: ["alice"] } }, x2goOptions: { geometry: "1280x800" } },
    { id: "src-term", name: "Terminal", pool: "src", mode: "redirect", command: "XTERM" },
  ];
  for (const profile of profiles) expect((await admin("/v1/admin/profiles", "POST", profile)).status).toBe(201);
});

describe("GET /v1/admin/pools/:pool/export", () => {
  it("answers the pool's interval, policy, profiles and node settings", async () => {
    const doc = await exportPool("src");
    expect(doc).toMatchObject({ version: 1, pool: { name: "src", intervalMs: 5000, policy: POLICY } });
    expect(doc.profiles.map((profile) => profile.id)).toEqual(["src-desk", "src-term"]);
    expect(doc.profiles[0]).toEqual({
      id: "src-desk",
      name: "Desk",
      mode: "relay",
      hosts: [{ name: "ct-a.example" }],
      command: "TERMINAL",
      policy: { steps: [{ use: "least-loaded" }] },
      acl: { users: { allow: ["alice"], deny: [], order: "deny-allow" } },
      x2goOptions: { geometry: "1280x800" },
      maxSessionsPerUser: 3,
      service: null,
      launcher: null,
      queue: null,
    });
    expect(doc.pool).toMatchObject({ originPatterns: [], allowPrivateOrigins: true, requireApproval: true });
    expect(doc.nodes).toEqual([
      { hostname: "ct-a.example", staticOverrides: { gpu: true, site: "lab" }, draining: false },
      { hostname: "ct-b.example", staticOverrides: {}, draining: true },
    ]);
  });

  it("contains no secret: no keys, tokens, password hashes, origins or server ids", async () => {
    await userToken("ct-secret-user");
    const token = await issueToken("src");
    const text = await (await admin("/v1/admin/pools/src/export")).text();
    for (const secret of [env.ADMIN_TOKEN, env.SIGNING_KEY, nodeA.publicJwk.x, nodeB.publicJwk.x, token, nodeA.serverId]) {
      expect(secret).toBeTruthy();
      expect(text).not.toContain(secret);
    }
    for (const word of ["pbkdf2", "passwordHash", "publicKey", "originUrl", "127.0.0.1", "srv_", "enr_", "ct-secret-user"]) expect(text).not.toContain(word);
  });

  it("answers 404 for an unknown pool", async () => {
    await expectError(await admin("/v1/admin/pools/nowhere/export"), 404, "NOT_FOUND");
  });
});

describe("POST /v1/admin/pools/:pool/import", () => {
  it("round-trips: an export imported under another pool name exports the same", async () => {
    const original = await exportPool("src");
    const copy = { ...original, profiles: original.profiles.map((profile) => ({ ...profile, id: `copy-${profile.id}` })) };
    const report = await imported("dst", copy);
    expect(report).toEqual({
      pool: "dst",
      imported: { pool: "created", profilesCreated: 2, profilesReplaced: 0, nodesUpdated: 0, nodesUnchanged: 0 },
      skipped: [
        { hostname: "ct-a.example", reason: "not enrolled in pool dst" },
        { hostname: "ct-b.example", reason: "not enrolled in pool dst" },
      ],
    });
    expect(await exportPool("dst")).toEqual({ ...copy, pool: { ...copy.pool, name: "dst" }, nodes: [] });
    expect(await (await admin("/v1/admin/pools/dst/policy")).json()).toEqual({ policy: POLICY, isDefault: false });
  });

  it("re-imports a pool's own export: profiles replaced, nodes unchanged, the export the same", async () => {
    const before = await exportPool("src");
    const report = await imported("src", before);
    expect(report.imported).toEqual({ pool: "updated", profilesCreated: 0, profilesReplaced: 2, nodesUpdated: 0, nodesUnchanged: 2 });
    expect(report.skipped).toEqual([]);
    expect(await exportPool("src")).toEqual(before);
  });

  it("applies node settings to enrolled nodes of the same hostname and skips the others", async () => {
    const doc = await exportPool("src");
    const changed = {
      ...doc,
      pool: { ...doc.pool, intervalMs: 7000, policy: null },
      nodes: [
        { hostname: "ct-a.example", staticOverrides: { gpu: false }, draining: true },
        { hostname: "ct-b.example" },
        { hostname: "ghost.example", draining: true },
      ],
    };
    const report = await imported("src", changed);
    expect(report.imported).toMatchObject({ pool: "updated", nodesUpdated: 2, nodesUnchanged: 0 });
    expect(report.skipped).toEqual([{ hostname: "ghost.example", reason: "not enrolled in pool src" }]);
    const servers = await listServers("src");
    expect(servers.find((server) => server.serverId === nodeA.serverId)).toMatchObject({ draining: true, staticData: { gpu: false } });
    expect(servers.find((server) => server.serverId === nodeB.serverId)).toMatchObject({ draining: false });
    expect(await (await admin("/v1/admin/pools/src")).json()).toMatchObject({ intervalMs: 7000 });
    expect(await (await admin("/v1/admin/pools/src/policy")).json()).toEqual({ policy: null, isDefault: true });
    expect((await imported("src", changed)).imported).toMatchObject({ nodesUpdated: 0, nodesUnchanged: 2 });
  });
});

describe("import: refusals change nothing", () => {
  const base = () => ({ version: 1, pool: { name: "src", intervalMs: 3000, policy: POLICY }, profiles: [{ id: "bad-1", name: "B", mode: "relay" }], nodes: [] });

  const bad: Array<[string, unknown, string]> = [
    ["not an object", [1, 2], "expected object"],
    ["another version", { ...base(), version: 2 }, "version"],
    ["an unknown field", { ...base(), secrets: {} }, "secrets"],
    ["an unknown built-in", { ...base(), pool: { ...base().pool, policy: { steps: [{ use: "teleport" }] } } }, "pool.policy.steps.0.use"],
    ["a script that does not parse", { ...base(), pool: { ...base().pool, policy: { steps: [{ script: "function (input) { return " }] } } }, "pool.policy.steps.0"],
    ["a profile's script that does not parse", { ...base(), profiles: [{ id: "bad-1", name: "B", mode: "relay", policy: { steps: [{ script: "nope(" }] } }] }, "profiles.0.policy.steps.0"],
    ["a profile id twice", { ...base(), profiles: [{ id: "dup", name: "A", mode: "relay" }, { id: "dup", name: "B", mode: "relay" }] }, "profile dup appears twice"],
    ["a profile naming its pool", { ...base(), profiles: [{ id: "bad-1", name: "B", mode: "relay", pool: "src" }] }, "profiles.0"],
    ["a bad hostname", { ...base(), nodes: [{ hostname: "not a host" }] }, "nodes.0.hostname"],
    ["an interval out of range", { ...base(), pool: { ...base().pool, intervalMs: 5 } }, "pool.intervalMs"],
  ];

  it.each(bad)("refuses %s with 400 naming the problem, into an existing or a new pool", async (_what, document, problem) => {
    const before = await exportPool("src");
    for (const pool of ["src", "fresh"]) {
      const response = await importPool(pool, document);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(body.error.code).toBe("BAD_REQUEST");
      expect(body.error.message).toContain(problem);
    }
    expect(await exportPool("src")).toEqual(before);
    expect(await poolExists("fresh")).toBe(false);
    expect((await admin("/v1/admin/profiles/bad-1")).status).toBe(404);
  });

  it("lists every problem of a document, not only the first", async () => {
    const document = { version: 1, pool: { name: "src", intervalMs: 5, policy: { steps: [] } }, profiles: [{ id: "x" }], nodes: [{ hostname: "-" }] };
    const body = (await (await importPool("src", document)).json()) as { error: { message: string } };
    for (const path of ["pool.intervalMs", "pool.policy.steps", "profiles.0.name", "profiles.0.mode", "nodes.0.hostname"]) expect(body.error.message).toContain(path);
  });

  it("refuses a policy whose dry run fails on the pool's live servers, listing each", async () => {
    expect((await admin(`/v1/admin/pools/src/servers/${nodeB.serverId}/undrain`, "POST")).status).toBe(200);
    expect((await beat(nodeB)).status).toBe(200);
    const throwing = { steps: [{ script: "function (input) { throw new Error('no thanks'); }", name: "picky" }] };
    const document = { ...base(), pool: { ...base().pool, policy: throwing }, profiles: [{ id: "bad-1", name: "B", mode: "relay", policy: throwing }] };
    const before = await exportPool("src");
    const response = await importPool("src", document);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(response.status, JSON.stringify(body)).toBe(400);
    expect(body.error.message).toContain("pool.policy: the policy failed its dry run");
    expect(body.error.message).toContain("profiles.0.policy: the policy failed its dry run");
    expect(body.error.message).toContain("no thanks");
    expect(await exportPool("src")).toEqual(before);
  });

  it("refuses with 409 a profile id that belongs to another pool, before creating the pool", async () => {
    const doc = await exportPool("src");
    const before = await exportPool("src");
    const response = await importPool("elsewhere", doc);
    await expectError(response.clone(), 409, "CONFLICT");
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("profile src-desk belongs to pool src");
    expect(await poolExists("elsewhere")).toBe(false);
    expect(await exportPool("src")).toEqual(before);
  });

  it("refuses a body that is not JSON with 415, and bad JSON with 400", async () => {
    const text = await call("/v1/admin/pools/src/import", { method: "POST", headers: { ...ADMIN, "Content-Type": "text/plain" }, body: "{}" });
    await expectError(text, 415, "UNSUPPORTED_MEDIA_TYPE");
    const broken = await call("/v1/admin/pools/src/import", { method: "POST", headers: { ...ADMIN, "Content-Type": "application/json" }, body: "{" });
    await expectError(broken, 400, "BAD_REQUEST");
  });

  it("refuses a bad pool name in the URL", async () => {
    await expectError(await importPool("Bad Name", base()), 400, "BAD_REQUEST");
    await expectError(await admin("/v1/admin/pools/Bad%20Name/export"), 400, "BAD_REQUEST");
  });
});

describe("config transfer: authentication", () => {
  it("refuses export and import without admin credentials, and changes nothing", async () => {
    const doc = { ...(await exportPool("src")), profiles: [] };
    const user = await userToken("ct-plain-user");
    await expectError(await call("/v1/admin/pools/src/export"), 401, "UNAUTHORIZED");
    await expectError(await call("/v1/admin/pools/src/export", { headers: { Authorization: "Bearer wrong-token-wrong-token" } }), 401, "UNAUTHORIZED");
    await expectError(await asUser(user, "/v1/admin/pools/src/export"), 403, "FORBIDDEN");
    await expectError(await importPool("unauth", doc, {}), 401, "UNAUTHORIZED");
    await expectError(await importPool("unauth", doc, { Authorization: `Bearer ${user}` }), 403, "FORBIDDEN");
    expect(await poolExists("unauth")).toBe(false);
  });

  it("accepts a signed-in admin user", async () => {
    const created = await admin("/v1/admin/users", "POST", { login: "ct-admin", password: "correct-horse-battery", isAdmin: true });
    expect(created.status).toBe(201);
    const signedIn = (await (await callJson("/v1/auth/login", "POST", { login: "ct-admin", password: "correct-horse-battery" })).json()) as { token: string };
    const response = await asUser(signedIn.token, "/v1/admin/pools/src/export");
    expect(response.status).toBe(200);
  });
});
