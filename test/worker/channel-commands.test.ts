/**
 * Commands over the control channel: an admin's `ping` (round trip) and `disconnect` (one session,
 * or one user on one node), disconnecting a user everywhere (the admin API, and deleting or
 * disabling the user), and how every failure answers: no channel, no answer in time, too many
 * unanswered, an agent that fails or answers nonsense.
 */
import { afterEach, describe, expect, it } from "vitest";
import { CHANNEL_REQUEST_TIMEOUT_MS, MAX_PENDING_CHANNEL_REQUESTS } from "../../src/channel-protocol.ts";
import { admin, enrolNode, expectError } from "./helpers.ts";
import { FakeAgent } from "./channel/fake-agent.ts";

afterEach(() => FakeAgent.closeAll());

const server = (serverId: string, pool = "default") => `/v1/admin/pools/${pool}/servers/${serverId}`;

type Disconnect = { id: number; method: "disconnect"; params: { target: Record<string, string>; reason: string } };
const isDisconnect = (message: unknown): message is Disconnect => typeof message === "object" && message !== null && (message as { method?: unknown }).method === "disconnect";

describe("ping", () => {
  it("measures a round trip to the node", async () => {
    const node = await enrolNode("cmd-ping");
    const agent = await FakeAgent.open(node);
    agent.answers["ping"] = { result: { nowMs: Date.now() } };
    const response = await admin(`${server(node.serverId)}/ping`, "POST");
    expect(response.status).toBe(200);
    const { rttMs } = (await response.json()) as { rttMs: number };
    expect(rttMs).toBeGreaterThanOrEqual(0);
    expect(rttMs).toBeLessThan(CHANNEL_REQUEST_TIMEOUT_MS);
  });

  it("answers 409 NODE_NOT_CONNECTED for a node without a channel, 404 for one not in the pool", async () => {
    const node = await enrolNode("cmd-offline");
    await expectError(await admin(`${server(node.serverId)}/ping`, "POST"), 409, "NODE_NOT_CONNECTED");
    await expectError(await admin(`${server("srv_nosuchserver0000")}/ping`, "POST"), 404, "NOT_FOUND");
    await expectError(await admin(`${server(node.serverId, "cmd-no-pool")}/ping`, "POST"), 404, "NOT_FOUND");
  });

  it("answers 502 NODE_FAILED when the agent fails or answers with a result of the wrong shape", async () => {
    const node = await enrolNode("cmd-failing");
    const agent = await FakeAgent.open(node);
    agent.answers["ping"] = { error: { code: "FAILED", message: "boom" } };
    await expectError(await admin(`${server(node.serverId)}/ping`, "POST"), 502, "NODE_FAILED");
    agent.answers["ping"] = { result: { nowMs: "yesterday" } };
    await expectError(await admin(`${server(node.serverId)}/ping`, "POST"), 502, "NODE_FAILED");
  });

  it(`answers 504 when the agent stays silent, and 503 beyond ${MAX_PENDING_CHANNEL_REQUESTS} unanswered commands`, async () => {
    const node = await enrolNode("cmd-silent");
    const agent = await FakeAgent.open(node);
    agent.answers["ping"] = "silent";
    const waiting = Array.from({ length: MAX_PENDING_CHANNEL_REQUESTS }, () => admin(`${server(node.serverId)}/ping`, "POST"));
    await agent.waitFor((message): message is unknown => agent.received.length >= MAX_PENDING_CHANNEL_REQUESTS && message !== undefined);
    const busy = await admin(`${server(node.serverId)}/ping`, "POST");
    await expectError(busy, 503, "NODE_BUSY");
    for (const response of await Promise.all(waiting)) await expectError(response, 504, "NODE_TIMEOUT");
  }, CHANNEL_REQUEST_TIMEOUT_MS + 10_000);

  it("fails a waiting command at once when the node is removed", async () => {
    const node = await enrolNode("cmd-removed-meanwhile");
    const agent = await FakeAgent.open(node);
    agent.answers["ping"] = "silent";
    const waiting = admin(`${server(node.serverId)}/ping`, "POST");
    await agent.waitFor((message): message is unknown => message !== undefined);
    const startedMs = Date.now();
    expect((await admin(server(node.serverId), "DELETE")).status).toBe(204);
    await expectError(await waiting, 409, "NODE_NOT_CONNECTED");
    expect(Date.now() - startedMs).toBeLessThan(CHANNEL_REQUEST_TIMEOUT_MS);
  });
});

describe("disconnect on one node", () => {
  it("asks the node to end one session's connections and answers how many it closed", async () => {
    const node = await enrolNode("cmd-disconnect");
    const agent = await FakeAgent.open(node);
    agent.answers["disconnect"] = { result: { closed: 2 } };
    const response = await admin(`${server(node.serverId)}/disconnect`, "POST", { sessionId: "s-1", reason: "maintenance at 18:00" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ closed: 2 });
    const sent = await agent.waitFor(isDisconnect);
    expect(sent.params).toEqual({ target: { sessionId: "s-1" }, reason: "maintenance at 18:00" });
  });

  it("ends one user's connections with the default reason when none is given", async () => {
    const node = await enrolNode("cmd-disconnect-user");
    const agent = await FakeAgent.open(node);
    agent.answers["disconnect"] = { result: { closed: 1 } };
    expect((await admin(`${server(node.serverId)}/disconnect`, "POST", { user: "alice" })).status).toBe(200);
    expect((await agent.waitFor(isDisconnect)).params).toEqual({ target: { user: "alice" }, reason: "disconnected by an administrator" });
  });

  it("answers 502 when the agent has no gateway to disconnect with", async () => {
    const node = await enrolNode("cmd-no-gateway");
    const agent = await FakeAgent.open(node);
    agent.answers["disconnect"] = { error: { code: "UNAVAILABLE", message: "this agent serves no relayed connections (no gateway)" } };
    await expectError(await admin(`${server(node.serverId)}/disconnect`, "POST", { sessionId: "s-1" }), 502, "NODE_FAILED");
  });
});

describe("disconnecting a user everywhere", () => {
  async function connectedNodes(prefix: string) {
    expect((await admin("/v1/admin/pools", "POST", { name: `${prefix}-pool` })).status).toBe(201);
    const nodes = [await enrolNode(`${prefix}-a`), await enrolNode(`${prefix}-b`), await enrolNode(`${prefix}-c`, `${prefix}-pool`)];
    const agents = await Promise.all(nodes.map((node) => FakeAgent.open(node)));
    for (const agent of agents) agent.answers["disconnect"] = { result: { closed: 1 } };
    return agents;
  }

  it("asks every connected node of every pool, and reports what they closed", async () => {
    const agents = await connectedNodes("cmd-everywhere");
    const response = await admin("/v1/admin/users/carol@example.com/disconnect", "POST", { reason: "account locked" });
    expect(response.status).toBe(200);
    const report = (await response.json()) as { nodes: number; closed: number; failed: unknown[] };
    expect(report.failed).toEqual([]);
    expect(report.nodes).toBeGreaterThanOrEqual(3);
    expect(report.closed).toBeGreaterThanOrEqual(3);
    for (const agent of agents) expect((await agent.waitFor(isDisconnect)).params).toEqual({ target: { user: "carol@example.com" }, reason: "account locked" });
  });

  it("ends a deleted user's connections on every connected node", async () => {
    expect((await admin("/v1/admin/users", "POST", { login: "dave", password: "correct-horse-battery" })).status).toBe(201);
    const agents = await connectedNodes("cmd-delete");
    expect((await admin("/v1/admin/users/dave", "DELETE")).status).toBe(204);
    for (const agent of agents) expect((await agent.waitFor(isDisconnect)).params).toEqual({ target: { user: "dave" }, reason: "user removed" });
  });

  it("ends a disabled user's connections, and leaves them alone on other changes", async () => {
    expect((await admin("/v1/admin/users", "POST", { login: "erin", password: "correct-horse-battery" })).status).toBe(201);
    const agents = await connectedNodes("cmd-disable");
    expect((await admin("/v1/admin/users/erin", "PATCH", { groups: ["staff"] })).status).toBe(200);
    expect(agents.every((agent) => !agent.received.some(isDisconnect))).toBe(true);
    expect((await admin("/v1/admin/users/erin", "PATCH", { disabled: true })).status).toBe(200);
    for (const agent of agents) expect((await agent.waitFor(isDisconnect)).params).toEqual({ target: { user: "erin" }, reason: "user disabled" });
  });

  it("reports the nodes that did not confirm instead of failing", async () => {
    const [silent] = await connectedNodes("cmd-partial");
    if (!silent) throw new Error("no agent");
    silent.answers["disconnect"] = { error: { code: "FAILED", message: "gateway down" } };
    const report = (await (await admin("/v1/admin/users/frank/disconnect", "POST", {})).json()) as { failed: Array<{ code: string }> };
    expect(report.failed).toEqual([expect.objectContaining({ code: "FAILED", message: "gateway down" })]);
  });
});
