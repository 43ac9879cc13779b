/**
 * Tunnels to a node's TCP service (issue 17) in workerd with real D1 and pool objects: who gets a
 * service ticket (`POST /v1/tunnels`) and which tickets open `GET /v1/tunnels/:serverId`. The
 * nodes' origins are loopback ports where nothing listens, so a ticket that passes every check
 * ends in 502 ORIGIN_UNREACHABLE (the tunnel reaching a live node: test/integration/tunnel.test.ts).
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signingKey, verifyToken } from "../../src/tokens/broker-token.ts";
import { SERVICE_TICKET } from "../../src/tokens/service-ticket.ts";
import { admin, asUser, beat, call, enrolNode, expectError, sampleBody, type TestNode, userToken } from "./helpers.ts";

const POOL = "tun";
const upgrade = { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" };
let nodes: Record<"a" | "b" | "c" | "d", TestNode>;
let elsewhere: TestNode;
let tess: string;
let tom: string;

interface TunnelAnswer {
  serverId: string;
  hostname: string;
  service: string;
  relay: { url: string; ticket: string; protocol: string; connectUrl: string; expiresAt: number };
}

async function profile(id: string, extra: Record<string, unknown>): Promise<void> {
  const response = await admin("/v1/admin/profiles", "POST", { id, name: id, pool: POOL, mode: "relay", service: "ssh", ...extra });
  expect(response.status).toBe(201);
}

async function tunnel(token: string, profileId: string, server: string, headers: Record<string, string> = {}): Promise<Response> {
  return call("/v1/tunnels", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers }, body: JSON.stringify({ profileId, server }) });
}

async function ticketFor(profileId: string, server: string): Promise<TunnelAnswer> {
  const response = await tunnel(tess, profileId, server);
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as TunnelAnswer;
}

beforeAll(async () => {
  await admin("/v1/admin/pools", "POST", { name: POOL, intervalMs: 10_000 });
  await admin("/v1/admin/pools", "POST", { name: "tun-other" });
  const enrol = async (name: string, extra: Record<string, unknown> = {}, pool = POOL) => {
    const node = await enrolNode(name, pool, extra);
    expect((await beat(node, sampleBody({ sessions: [], users: [] }))).status).toBe(200);
    return node;
  };
  nodes = { a: await enrol("tun-a"), b: await enrol("tun-b", { clientAddress: "10.1.0.9:2222" }), c: await enrol("tun-c", { clientAddress: "10.1.0.9:22" }), d: await enrol("tun-d") };
  elsewhere = await enrol("tun-x", {}, "tun-other");
  await profile("ssh-all", {});
  await profile("ssh-a", { hosts: [{ name: "tun-a", address: "desk-a.example.org", port: 2201 }] });
  await profile("ssh-staff", { acl: { groups: { allow: ["staff"], order: "deny-allow" } } });
  await profile("ssh-lan", { acl: { clients: { allow: ["10.0.0.0/8"], deny: ["ALL"], order: "allow-deny" } } });
  await profile("no-service", { service: null });
  tess = await userToken("tess", ["staff"]);
  tom = await userToken("tom", []);
});

describe("POST /v1/tunnels: a service ticket for a server the profile may use", () => {
  it("names the server by hostname, serverId or the host an X2Go answer gave, with the tunnel URL on this host", async () => {
    for (const server of ["tun-a", nodes.a.serverId, "TUN-A"]) {
      const answer = await ticketFor("ssh-all", server);
      expect(answer).toMatchObject({ serverId: nodes.a.serverId, hostname: "tun-a", service: "ssh" });
      expect(answer.relay.url).toBe(`wss://broker.test/v1/tunnels/${nodes.a.serverId}`);
      expect(answer.relay.protocol).toBe(`broker-ticket.${answer.relay.ticket}`);
      expect(answer.relay.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    }
    expect((await ticketFor("ssh-a", "desk-a.example.org")).serverId).toBe(nodes.a.serverId);
  });

  it("signs a ticket of its own kind: audience relay:service, the service, server, pool and profile", async () => {
    const answer = await ticketFor("ssh-all", "tun-d");
    const verdict = await verifyToken(signingKey(env.SIGNING_KEY) as Uint8Array, SERVICE_TICKET, answer.relay.ticket, Date.now());
    expect(verdict).toMatchObject({ ok: true, value: { aud: "relay:service", sub: "tess", svc: "ssh", srv: nodes.d.serverId, pool: POOL, prf: "ssh-all" } });
  });

  it("refuses a profile without a service (409), a name of no server of the profile (404) and a name of several (409)", async () => {
    await expectError(await tunnel(tess, "no-service", "tun-a"), 409, "CONFLICT");
    for (const server of ["tun-zz", "tun-x", elsewhere.serverId]) await expectError(await tunnel(tess, "ssh-all", server), 404, "NOT_FOUND");
    await expectError(await tunnel(tess, "ssh-a", "tun-d"), 404, "NOT_FOUND");
    await expectError(await tunnel(tess, "ssh-all", "10.1.0.9"), 409, "CONFLICT");
    expect((await ticketFor("ssh-all", "tun-b")).serverId).toBe(nodes.b.serverId);
  });

  it("refuses a server that is down (503)", async () => {
    const pool = env.POOL.getByName(POOL);
    await runInDurableObject(pool, (_instance, state) => {
      state.storage.sql.exec("UPDATE nodes SET last_seen_at = last_seen_at - ? WHERE server_id = ?", 60_000, nodes.d.serverId);
    });
    await evictDurableObject(pool);
    await runDurableObjectAlarm(pool);
    await expectError(await tunnel(tess, "ssh-all", "tun-d"), 503, "NO_SERVER_AVAILABLE");
    expect((await beat(nodes.d, sampleBody({ sessions: [], users: [] }))).status).toBe(200);
  });

  it("answers a profile the ACL refuses exactly like a missing one, for groups and for the client address", async () => {
    const hidden = await tunnel(tom, "ssh-staff", "tun-a");
    const missing = await tunnel(tom, "ssh-nope", "tun-a");
    expect([hidden.status, missing.status]).toEqual([404, 404]);
    const text = (response: { error: { code: string; message: string } }) => ({ code: response.error.code, message: response.error.message.replace("ssh-staff", "ssh-nope") });
    expect(text(await hidden.json())).toEqual(text(await missing.json()));
    await expectError(await tunnel(tess, "ssh-lan", "tun-a", { "CF-Connecting-IP": "192.0.2.7" }), 404, "NOT_FOUND");
    expect((await tunnel(tess, "ssh-lan", "tun-a", { "CF-Connecting-IP": "10.2.3.4" })).status).toBe(201);
  });

  it("needs a user: none, the wrong kind, or a node's key is 401", async () => {
    expect((await call("/v1/tunnels", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ profileId: "ssh-all", server: "tun-a" }) })).status).toBe(401);
    await expectError(await asUser("not-a-token", "/v1/tunnels", "POST", { profileId: "ssh-all", server: "tun-a" }), 401, "UNAUTHORIZED");
  });
});

describe("GET /v1/tunnels/:serverId: only a service ticket for this server opens it, once", () => {
  const open = (serverId: string, ticket: string, path = "tunnels") => call(`/v1/${path}/${serverId}?ticket=${encodeURIComponent(ticket)}`, { headers: upgrade });

  it("passes a valid ticket to the node's origin (502 here: nothing listens) and spends it", async () => {
    const answer = await ticketFor("ssh-all", "tun-a");
    await expectError(await open(nodes.a.serverId, answer.relay.ticket), 502, "ORIGIN_UNREACHABLE");
    await expectError(await open(nodes.a.serverId, answer.relay.ticket), 401, "UNAUTHORIZED");
  });

  it("takes the ticket as the broker-ticket subprotocol too", async () => {
    const answer = await ticketFor("ssh-all", "tun-a");
    const response = await call(`/v1/tunnels/${nodes.a.serverId}`, { headers: { ...upgrade, "Sec-WebSocket-Protocol": `binary, ${answer.relay.protocol}` } });
    await expectError(response, 502, "ORIGIN_UNREACHABLE");
  });

  it("refuses a desktop relay ticket, and the relay refuses a service ticket (401, neither spent)", async () => {
    const desktop = (await (await asUser(tess, "/v1/sessions", "POST", { profileId: "ssh-all" })).json()) as { serverId: string; relay: { ticket: string } };
    await expectError(await open(desktop.serverId, desktop.relay.ticket), 401, "UNAUTHORIZED");
    const service = await ticketFor("ssh-all", "tun-a");
    await expectError(await open(nodes.a.serverId, service.relay.ticket, "relay"), 401, "UNAUTHORIZED");
    await expectError(await open(nodes.a.serverId, service.relay.ticket), 502, "ORIGIN_UNREACHABLE");
  });

  it("refuses a ticket for another server with 403, without spending it", async () => {
    const answer = await ticketFor("ssh-all", "tun-a");
    await expectError(await open(nodes.d.serverId, answer.relay.ticket), 403, "FORBIDDEN");
    await expectError(await open(nodes.a.serverId, answer.relay.ticket), 502, "ORIGIN_UNREACHABLE");
  });

  it("refuses no ticket (401) and a request that is no upgrade (426)", async () => {
    await expectError(await call(`/v1/tunnels/${nodes.a.serverId}`, { headers: upgrade }), 401, "UNAUTHORIZED");
    await expectError(await call(`/v1/tunnels/${nodes.a.serverId}?ticket=x`), 426, "UPGRADE_REQUIRED");
  });
});
