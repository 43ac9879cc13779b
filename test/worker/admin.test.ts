import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, beat, call, callJson, enrolNode, expectError, listServers } from "./helpers.ts";

describe("admin API: authentication", () => {
  const routes: Array<[string, string, unknown?]> = [
    ["GET", "/v1/admin/pools"],
    ["POST", "/v1/admin/pools", { name: "x" }],
    ["POST", "/v1/admin/pools/default/enrolment-tokens", { ttlSeconds: 600 }],
    ["GET", "/v1/admin/pools/default/servers"],
    ["POST", "/v1/admin/pools/default/servers/srv_AAAAAAAAAAAAAAAAAAAA/drain"],
    ["DELETE", "/v1/admin/pools/default/servers/srv_AAAAAAAAAAAAAAAAAAAA"],
  ];

  it.each(routes)("%s %s refuses no token, a wrong token and a non-bearer scheme", async (method, path, body) => {
    const init = (headers: Record<string, string>) => ({
      method,
      headers: { "Content-Type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    await expectError(await call(path, init({})), 401, "UNAUTHORIZED");
    await expectError(await call(path, init({ Authorization: "Bearer wrong-token-wrong-token" })), 401, "UNAUTHORIZED");
    await expectError(await call(path, init({ Authorization: `Basic ${ADMIN_TOKEN}` })), 401, "UNAUTHORIZED");
    await expectError(await call(path, init({ Authorization: `Bearer ${ADMIN_TOKEN}x` })), 401, "UNAUTHORIZED");
  });

  it("changes nothing on a refused call", async () => {
    await callJson("/v1/admin/pools", "POST", { name: "sneaky" }, { Authorization: "Bearer nope-nope-nope-nope" });
    const pools = (await (await admin("/v1/admin/pools")).json()) as { pools: Array<{ name: string }> };
    expect(pools.pools.map((pool) => pool.name)).not.toContain("sneaky");
  });
});

describe("admin API: pools and tokens", () => {
  it("has a default pool out of the box", async () => {
    const body = (await (await admin("/v1/admin/pools")).json()) as { pools: Array<{ name: string; intervalMs: number }> };
    expect(body.pools).toContainEqual(expect.objectContaining({ name: "default", intervalMs: 10_000 }));
  });

  it("creates a pool once and refuses a duplicate with 409", async () => {
    expect((await admin("/v1/admin/pools", "POST", { name: "lab", intervalMs: 2000 })).status).toBe(201);
    await expectError(await admin("/v1/admin/pools", "POST", { name: "lab" }), 409, "CONFLICT");
  });

  it("changes a pool's interval and tells the agents in the next reply", async () => {
    await admin("/v1/admin/pools", "POST", { name: "fast" });
    const node = await enrolNode("fast-1", "fast");
    expect((await admin("/v1/admin/pools/fast", "PATCH", { intervalMs: 1000 })).status).toBe(200);
    expect(await (await beat(node)).json()).toMatchObject({ intervalMs: 1000 });
  });

  it.each([
    ["/v1/admin/pools", { name: "Bad Name" }],
    ["/v1/admin/pools", { name: "ok", intervalMs: 5 }],
    ["/v1/admin/pools", { name: "ok", color: "red" }],
    ["/v1/admin/pools/default/enrolment-tokens", { ttlSeconds: 1 }],
    ["/v1/admin/pools/default/enrolment-tokens", { ttlSeconds: "long" }],
  ])("POST %s with %j answers 400", async (path, body) => {
    await expectError(await admin(path, "POST", body), 400, "BAD_REQUEST");
  });

  it("answers 404 for tokens or servers of an unknown pool", async () => {
    await expectError(await admin("/v1/admin/pools/nope/enrolment-tokens", "POST", { ttlSeconds: 600 }), 404, "NOT_FOUND");
    await expectError(await admin("/v1/admin/pools/nope/servers"), 404, "NOT_FOUND");
  });
});

describe("admin API: servers", () => {
  it("drains and undrains a node, kept up all along", async () => {
    const node = await enrolNode("adm-drain");
    await beat(node);
    const drained = await admin(`/v1/admin/pools/default/servers/${node.serverId}/drain`, "POST");
    expect(await drained.json()).toMatchObject({ status: "draining", draining: true });
    const undrained = await admin(`/v1/admin/pools/default/servers/${node.serverId}/undrain`, "POST");
    expect(await undrained.json()).toMatchObject({ status: "up", draining: false });
    const row = await env.DB.prepare("SELECT draining FROM nodes WHERE server_id = ?").bind(node.serverId).first<{ draining: number }>();
    expect(row?.draining).toBe(0);
  });

  it("edits static data as overrides over the agent's own", async () => {
    const node = await enrolNode("adm-static");
    await beat(node);
    const response = await admin(`/v1/admin/pools/default/servers/${node.serverId}/static-data`, "PUT", { staticData: { gpu: true, rack: "b2" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ staticData: { gpu: true, rack: "b2" } });
    await beat(node);
    const server = (await listServers()).find((s) => s.serverId === node.serverId);
    expect(server?.staticData).toEqual({ gpu: true, rack: "b2" });
  });

  it("answers 404 for an unknown server and 400 for a malformed serverId", async () => {
    await expectError(await admin("/v1/admin/pools/default/servers/srv_AAAAAAAAAAAAAAAAAAAA"), 404, "NOT_FOUND");
    await expectError(await admin("/v1/admin/pools/default/servers/../../etc"), 404, "NOT_FOUND");
    await expectError(await admin("/v1/admin/pools/default/servers/nope/drain", "POST"), 400, "BAD_REQUEST");
  });

  it("refuses a server of another pool", async () => {
    await admin("/v1/admin/pools", "POST", { name: "other" });
    const node = await enrolNode("adm-other", "other");
    await expectError(await admin(`/v1/admin/pools/default/servers/${node.serverId}/drain`, "POST"), 404, "NOT_FOUND");
  });

  it("removes a node from the object and the catalogue", async () => {
    const node = await enrolNode("adm-remove");
    expect((await admin(`/v1/admin/pools/default/servers/${node.serverId}`, "DELETE")).status).toBe(204);
    const row = await env.DB.prepare("SELECT 1 FROM nodes WHERE server_id = ?").bind(node.serverId).first();
    expect(row).toBeNull();
    await expectError(await admin(`/v1/admin/pools/default/servers/${node.serverId}`, "DELETE"), 404, "NOT_FOUND");
  });

  it("never answers a node's key material", async () => {
    const node = await enrolNode("adm-secret");
    const text = await (await admin("/v1/admin/pools/default/servers")).text();
    expect(text).not.toContain(node.publicJwk.x);
  });
});

describe("unknown routes", () => {
  it("answer 404 in the error envelope", async () => {
    await expectError(await call("/nope"), 404, "NOT_FOUND");
  });
});
