import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, asUser, beat, call, callJson, enrolNode, expectError, listServers, sampleBody, type TestNode, userToken } from "./helpers.ts";

const idle = (overrides = {}) => sampleBody({ sessions: [], users: [], staticData: {}, ...overrides });

async function upNodes(pool: string, count: number, body = idle()): Promise<TestNode[]> {
  const created = await admin("/v1/admin/pools", "POST", { name: pool });
  if (created.status !== 201) throw new Error(`pool ${pool}: ${created.status}`);
  const nodes: TestNode[] = [];
  for (let index = 0; index < count; index++) {
    const node = await enrolNode(`${pool}-${index}`, pool);
    expect((await beat(node, body)).status).toBe(200);
    nodes.push(node);
  }
  return nodes;
}

function select(pool: string, login: string, extra: Record<string, unknown> = {}) {
  return admin(`/v1/pools/${pool}/select`, "POST", { action: "session/start", user: { login }, ...extra });
}

async function chosen(response: Response): Promise<{ serverId: string; reason: string; trace: Array<{ step: string; outcome: string }>; resumeSessionId?: string }> {
  if (response.status !== 200) throw new Error(`select: ${response.status} ${await response.text()}`);
  return (await response.json()) as never;
}

describe("select: the default chain", () => {
  it("picks an up server, explains why and traces every step it ran", async () => {
    const nodes = await upNodes("basic", 3);
    const decision = await chosen(await select("basic", "alice"));
    expect(nodes.map((node) => node.serverId)).toContain(decision.serverId);
    expect(decision.reason).toMatch(/least-loaded/);
    expect(decision.trace.map((entry) => entry.step)).toEqual(["resume", "require", "allowed-users", "capacity", "least-loaded"]);
  });

  it("spreads a burst of 100 concurrent starts over 10 idle, equal servers (none above 11)", async () => {
    const nodes = await upNodes("burst", 10);
    const decisions = await Promise.all(Array.from({ length: 100 }, (_, index) => select("burst", `user-${index}`).then(chosen)));
    const perServer = new Map<string, number>();
    for (const decision of decisions) perServer.set(decision.serverId, (perServer.get(decision.serverId) ?? 0) + 1);
    expect(perServer.size).toBe(10);
    expect(Math.max(...perServer.values())).toBeLessThanOrEqual(11);
    const servers = await listServers("burst");
    expect(servers.reduce((sum, server) => sum + (server.pendingSessions as number), 0)).toBe(100);
    expect(nodes).toHaveLength(10);
  });

  it("sends a returning user to the server holding their suspended session, without reserving", async () => {
    const nodes = await upNodes("resume", 3);
    const holder = nodes[1] as TestNode;
    await beat(holder, idle({ sessions: [{ id: "alice-1", user: "alice", state: "suspended", startedAt: 1 }], users: ["alice"] }));
    const decision = await chosen(await select("resume", "alice"));
    expect(decision).toMatchObject({ serverId: holder.serverId, resumeSessionId: "alice-1" });
    expect((await listServers("resume")).every((server) => server.pendingSessions === 0)).toBe(true);
  });

  it("keeps a draining server for its own users' resumes and away from everyone else", async () => {
    const nodes = await upNodes("drain", 2);
    const drained = nodes[0] as TestNode;
    await beat(drained, idle({ sessions: [{ id: "bob-1", user: "bob", state: "suspended", startedAt: 1 }], users: ["bob"] }));
    await admin(`/v1/admin/pools/drain/servers/${drained.serverId}/drain`, "POST");
    expect((await chosen(await select("drain", "bob"))).serverId).toBe(drained.serverId);
    for (let index = 0; index < 10; index++) expect((await chosen(await select("drain", `carol-${index}`))).serverId).not.toBe(drained.serverId);
  });

  it("answers 503 when no server is up", async () => {
    await admin("/v1/admin/pools", "POST", { name: "empty" });
    await expectError(await select("empty", "alice"), 503, "NO_SERVER_AVAILABLE");
  });

  it("filters by required static data", async () => {
    const nodes = await upNodes("gpu", 3);
    const gpuNode = nodes[2] as TestNode;
    await beat(gpuNode, idle({ staticData: { gpu: true } }));
    for (let index = 0; index < 5; index++) {
      expect((await chosen(await select("gpu", `u${index}`, { data: { require: { gpu: true } } }))).serverId).toBe(gpuNode.serverId);
    }
  });
});

describe("reservations", () => {
  it("are confirmed by the heartbeat that shows the new session", async () => {
    const [node] = (await upNodes("confirm", 1)) as [TestNode];
    await chosen(await select("confirm", "dave"));
    expect((await listServers("confirm"))[0]?.pendingSessions).toBe(1);
    await beat(node, idle({ sessions: [{ id: "dave-1", user: "dave", state: "running", startedAt: Date.now() }], users: ["dave"] }));
    const [server] = await listServers("confirm");
    expect(server).toMatchObject({ pendingSessions: 0, sessionCount: 1 });
  });

  it("expire when no heartbeat confirms them", async () => {
    await upNodes("expire", 1);
    await chosen(await select("expire", "erin"));
    await runInDurableObject(env.POOL.getByName("expire"), (_instance, state) => {
      state.storage.sql.exec("UPDATE reservations SET expires_at = ?", Date.now() - 1);
    });
    await evictDurableObject(env.POOL.getByName("expire"));
    expect((await listServers("expire"))[0]?.pendingSessions).toBe(0);
  });
});

describe("policies", () => {
  const gpuScript = "function (input) { const s = input.servers.find((server) => server.staticData.gpu === true); return s ? s.serverId : null; }";

  it("saves a script step, uses it for selection, and shows it back", async () => {
    const nodes = await upNodes("scripted", 3);
    const gpuNode = nodes[0] as TestNode;
    await beat(gpuNode, idle({ staticData: { gpu: true } }));
    const policy = { steps: [{ script: gpuScript, name: "gpu-first" }, { use: "least-loaded" }] };
    const saved = await admin("/v1/admin/pools/scripted/policy", "PUT", { policy });
    expect(saved.status).toBe(200);
    expect(await saved.json()).toMatchObject({ dryRun: { ok: true, serverId: gpuNode.serverId } });
    const decision = await chosen(await select("scripted", "frank"));
    expect(decision.serverId).toBe(gpuNode.serverId);
    expect(decision.trace[0]).toMatchObject({ step: "gpu-first", outcome: "chose" });
    expect(await (await admin("/v1/admin/pools/scripted/policy")).json()).toMatchObject({ isDefault: false, policy });
  });

  it("shows the script's own message to the user when it refuses", async () => {
    await upNodes("refuse", 1);
    const policy = { steps: [{ script: "function (input) { if (input.user.login === 'mallory') throw new Error('mallory may not log in here'); }" }, { use: "least-loaded" }] };
    expect((await admin("/v1/admin/pools/refuse/policy", "PUT", { policy })).status).toBe(200);
    const response = await select("refuse", "mallory");
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ error: { code: "POLICY_REJECTED", message: "mallory may not log in here" } });
    expect((await select("refuse", "alice")).status).toBe(200);
  });

  it.each([
    ["a syntax error", "function (input) { return input.servers[0].serverId", /SyntaxError|Unexpected|expected/i],
    ["a script that is not a function", "input.servers[0].serverId", /function/],
    ["an infinite loop", "function (input) { while (true) {} }", /iteration budget|timed out|time/i],
    ["a fetch", "async function (input) { await fetch('https://example.com'); return input.servers[0].serverId; }", /internet|not permitted|fetch/i],
    ["a junk answer", "function (input) { return 'srv_notinthelistatall'; }", /not in|junk|unknown/i],
  ])("refuses %s at save time and keeps the old policy", async (_name, script, message) => {
    const pool = `bad-${Math.random().toString(36).slice(2, 8)}`;
    await upNodes(pool, 1);
    const response = await admin(`/v1/admin/pools/${pool}/policy`, "PUT", { policy: { steps: [{ script }] } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.message).toMatch(message);
    expect(await (await admin(`/v1/admin/pools/${pool}/policy`)).json()).toMatchObject({ isDefault: true });
    expect((await select(pool, "alice")).status).toBe(200);
  });

  it("a script that loops at selection time fails that request cleanly; the next one works", async () => {
    await upNodes("loopy", 2);
    const policy = { steps: [{ script: "function (input) { if (input.user.login === 'loop') { for (;;) {} } return null; }" }, { use: "least-loaded" }] };
    expect((await admin("/v1/admin/pools/loopy/policy", "PUT", { policy })).status).toBe(200);
    const looped = await select("loopy", "loop");
    expect(looped.status).toBeGreaterThanOrEqual(400);
    expect(looped.status).not.toBe(500);
    expect((await select("loopy", "alice")).status).toBe(200);
  });

  it("refuses unknown built-ins and bad params with 400", async () => {
    await admin("/v1/admin/pools", "POST", { name: "params" });
    await expectError(await admin("/v1/admin/pools/params/policy", "PUT", { policy: { steps: [{ use: "fastest" }] } }), 400, "BAD_REQUEST");
    await expectError(await admin("/v1/admin/pools/params/policy", "PUT", { policy: { steps: [] } }), 400, "BAD_REQUEST");
    await expectError(await admin("/v1/admin/pools/params/policy", "PUT", { policy: { steps: [{ use: "capacity", params: { maxLoadPerCpu: "high" } }] } }), 400, "BAD_REQUEST");
  });

  it("restores the default chain with null", async () => {
    await upNodes("restore", 1);
    await admin("/v1/admin/pools/restore/policy", "PUT", { policy: { steps: [{ use: "random" }] } });
    expect((await admin("/v1/admin/pools/restore/policy", "PUT", { policy: null })).status).toBe(200);
    expect(await (await admin("/v1/admin/pools/restore/policy")).json()).toEqual({ policy: null, isDefault: true });
  });
});

describe("dry runs and the decision log", () => {
  it("a dry run answers which server a user would get and why, without reserving or logging", async () => {
    await upNodes("dry", 2);
    const response = await admin("/v1/admin/pools/dry/dry-run", "POST", { user: { login: "gina" } });
    const outcome = (await response.json()) as { ok: boolean; serverId: string; trace: unknown[] };
    expect(outcome.ok).toBe(true);
    expect(outcome.trace.length).toBeGreaterThan(0);
    expect((await listServers("dry")).every((server) => server.pendingSessions === 0)).toBe(true);
    const log = (await (await admin("/v1/admin/pools/dry/decisions")).json()) as { decisions: unknown[] };
    expect(log.decisions).toHaveLength(0);
  });

  it("logs real decisions with their traces, newest first", async () => {
    await upNodes("logged", 2);
    await select("logged", "hank");
    await select("logged", "ivy");
    const log = (await (await admin("/v1/admin/pools/logged/decisions?limit=10")).json()) as { decisions: Array<{ user: string; ok: boolean; trace: unknown[] }> };
    expect(log.decisions.map((decision) => decision.user)).toEqual(["ivy", "hank"]);
    expect(log.decisions[0]?.trace.length).toBe(5);
  });
});

describe("select: errors and security", () => {
  it("refuses callers without the admin token", async () => {
    await expectError(await callJson("/v1/pools/default/select", "POST", { user: { login: "x" } }), 401, "UNAUTHORIZED");
    await expectError(await call("/v1/admin/pools/default/policy"), 401, "UNAUTHORIZED");
  });

  it.each([
    [{ user: {} }],
    [{ user: { login: "a b" } }],
    [{ user: { login: "a" }, action: "session/stop" }],
    [{ user: { login: "a" }, extra: 1 }],
    [{ user: { login: "a", serverId: "nope" } }],
  ])("answers 400 for %j", async (body) => {
    await expectError(await admin("/v1/pools/default/select", "POST", body), 400, "BAD_REQUEST");
  });

  it("answers 404 for an unknown pool", async () => {
    await expectError(await select("nope", "alice"), 404, "NOT_FOUND");
  });

  it("answers 413 for a policy larger than the body limit", async () => {
    const script = `function (input) { return null; /* ${"x".repeat(1_100_000)} */ }`;
    await expectError(await admin("/v1/admin/pools/default/policy", "PUT", { policy: { steps: [{ script }] } }), 413, "PAYLOAD_TOO_LARGE");
  });
});

describe("select: as a signed-in user", () => {
  it("selects for the user themselves, with the groups the broker knows", async () => {
    await upNodes("users", 2);
    expect((await admin("/v1/admin/profiles", "POST", { id: "users-desk", name: "Desk", pool: "users", mode: "relay" })).status).toBe(201);
    const token = await userToken("uma", ["staff"]);
    const response = await asUser(token, "/v1/pools/users/select", "POST", { action: "session/start", profileId: "users-desk" });
    expect(response.status).toBe(200);
    const log = (await (await admin("/v1/admin/pools/users/decisions")).json()) as { decisions: Array<{ user: string }> };
    expect(log.decisions[0]?.user).toBe("uma");
  });

  it("refuses to select for another user (403) and ignores claimed admin rights", async () => {
    await upNodes("users2", 1);
    expect((await admin("/v1/admin/profiles", "POST", { id: "users2-desk", name: "Desk", pool: "users2", mode: "relay" })).status).toBe(201);
    const token = await userToken("victor");
    await expectError(await asUser(token, "/v1/pools/users2/select", "POST", { user: { login: "alice" }, profileId: "users2-desk" }), 403, "FORBIDDEN");
    const own = await asUser(token, "/v1/pools/users2/select", "POST", { user: { login: "victor", isAdmin: true, groups: ["admins"] }, profileId: "users2-desk" });
    expect(own.status).toBe(200);
    await expectError(await asUser(token, "/v1/admin/pools/users2/decisions"), 403, "FORBIDDEN");
  });
});
