/**
 * Launched sessions (issue 14, broker side): a profile with a `launcher` starts each new session
 * on its node over the control channel (a fake agent here answers as the real one does), lists it
 * at once, shows a queued start as `starting` with the launcher's message, drops the reservation
 * when the launcher fails, places only on nodes whose channel is open, and ends a session with
 * `DELETE /v1/sessions/:id` (owner or admin).
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeAgent } from "./channel/fake-agent.ts";
import { admin, asUser, beat, dashboardSession, enrolNode, expectError, listServers, sampleBody, type TestNode, userToken } from "./helpers.ts";

afterEach(() => FakeAgent.closeAll());

interface StartCommand {
  id: number;
  method: "start";
  params: { sessionId: string; user: { login: string; groups: string[]; isAdmin: boolean }; profile: { id: string; launcher: string; params: Record<string, unknown> }; data: Record<string, unknown> };
}
interface TerminateCommand {
  id: number;
  method: "terminate";
  params: { sessionId: string; reason: string };
}
const isStart = (message: unknown): message is StartCommand => (message as { method?: string } | null)?.method === "start";
const isTerminate = (message: unknown): message is TerminateCommand => (message as { method?: string } | null)?.method === "terminate";

interface Listed {
  id: string;
  user: string;
  state: string;
  profileId?: string;
  message?: string;
  serverId: string;
}

let alice: string;
let bob: string;

/** A pool of its own with one node whose channel is open, and a launcher profile on it. */
async function launcherPool(name: string): Promise<{ node: TestNode; agent: FakeAgent; profileId: string }> {
  expect((await admin("/v1/admin/pools", "POST", { name })).status).toBe(201);
  const node = await enrolNode(`${name}-1`, name);
  await beat(node, sampleBody({ sessions: [], users: [] }));
  const agent = await FakeAgent.open(node);
  const profileId = `${name}-desk`;
  const created = await admin("/v1/admin/profiles", "POST", { id: profileId, name: profileId, pool: name, mode: "relay", launcher: { name: "xvnc", params: { geometry: "1280x800" } } });
  expect(created.status).toBe(201);
  return { node, agent, profileId };
}

/** The user's sessions in one pool (each test has a pool of its own). */
async function mySessions(token: string, pool: string): Promise<Listed[]> {
  return ((await (await asUser(token, "/v1/sessions")).json()) as { sessions: Array<Listed & { pool: string }> }).sessions.filter((session) => session.pool === pool);
}

/** The agent closes its channel; returns once the pool no longer counts it connected. */
async function closeChannel(agent: FakeAgent, pool: string): Promise<void> {
  agent.ws.close(1000, "agent stopping");
  for (let attempt = 0; attempt < 100; attempt++) {
    const servers = await listServers(pool);
    if (servers.every((server) => server["channelConnected"] === false)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the channel still counts as connected");
}

beforeAll(async () => {
  alice = await userToken("alice-launch", ["staff"]);
  bob = await userToken("bob-launch");
});

describe("starting a launched session", () => {
  it("sends start with the user, profile and data, answers running with a relay, and lists the session at once", async () => {
    const { agent, profileId, node } = await launcherPool("launch-run");
    agent.answers["start"] = { result: { state: "running", display: ":7" } };
    const response = await asUser(alice, "/v1/sessions", "POST", { profileId, data: { geometry: "800x600" } });
    expect(response.status).toBe(201);
    const answer = (await response.json()) as { sessionId: string; state: string; relay?: { url: string } };
    expect(answer.state).toBe("running");
    expect(answer.relay?.url).toContain(`/v1/relay/${node.serverId}`);
    const start = await agent.waitFor(isStart);
    expect(start.params).toEqual({
      sessionId: answer.sessionId,
      user: { login: "alice-launch", groups: ["staff"], isAdmin: false },
      profile: { id: profileId, launcher: "xvnc", params: { geometry: "1280x800" } },
      data: { geometry: "800x600" },
    });
    expect(await mySessions(alice, "launch-run")).toEqual([expect.objectContaining({ id: answer.sessionId, state: "running", profileId, serverId: node.serverId })]);
    // The node's next beat lists the session: it is listed once, as the node reports it.
    await beat(node, sampleBody({ sessions: [{ id: answer.sessionId, user: "alice-launch", state: "suspended", startedAt: Date.now(), profileId }], users: ["alice-launch"] }));
    expect(await mySessions(alice, "launch-run")).toEqual([expect.objectContaining({ id: answer.sessionId, state: "suspended" })]);
    const [server] = await listServers("launch-run");
    expect(server).toMatchObject({ pendingSessions: 0, sessionCount: 1 });
  });

  it("answers 202 starting with the launcher's message when a scheduler queued it, and resume says the same until it runs", async () => {
    const { agent, profileId } = await launcherPool("launch-queue");
    agent.answers["start"] = { result: { state: "queued", message: "job 41 pending (Resources)" } };
    const response = await asUser(alice, "/v1/sessions", "POST", { profileId });
    expect(response.status).toBe(202);
    const answer = (await response.json()) as { sessionId: string; state: string; message: string; relay?: unknown };
    expect(answer).toMatchObject({ state: "starting", message: "job 41 pending (Resources)" });
    expect(answer.relay).toBeUndefined();
    expect(await mySessions(alice, "launch-queue")).toEqual([expect.objectContaining({ id: answer.sessionId, state: "starting", message: "job 41 pending (Resources)" })]);
    const resumed = await asUser(alice, `/v1/sessions/${answer.sessionId}/resume`, "POST", { profileId });
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ state: "starting", resumed: true });
    // Starting again finds the starting session instead of queueing a second job.
    const again = await asUser(alice, "/v1/sessions", "POST", { profileId });
    expect(await again.json()).toMatchObject({ sessionId: answer.sessionId, state: "starting", resumed: true });
    expect(agent.received.filter(isStart)).toHaveLength(1);
  });

  it("answers 502 LAUNCH_FAILED with the launcher's message and keeps nothing of the start", async () => {
    const { agent, profileId } = await launcherPool("launch-fail");
    agent.answers["start"] = { error: { code: "LAUNCH_FAILED", message: "no free display for alice-launch" } };
    const response = await asUser(alice, "/v1/sessions", "POST", { profileId });
    await expectError(response.clone(), 502, "LAUNCH_FAILED");
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe("no free display for alice-launch");
    expect(await mySessions(alice, "launch-fail")).toEqual([]);
    const [server] = await listServers("launch-fail");
    expect(server).toMatchObject({ pendingSessions: 0, sessionCount: 0 });
  });

  it("places only on nodes whose channel is open", async () => {
    const { agent, profileId } = await launcherPool("launch-channel");
    await closeChannel(agent, "launch-channel");
    await expectError(await asUser(alice, "/v1/sessions", "POST", { profileId }), 503, "NO_SERVER_AVAILABLE");
    expect(agent.received.filter(isStart)).toHaveLength(0);
  });

  it("refuses start data no launcher may get, before placing anything", async () => {
    const { agent, profileId } = await launcherPool("launch-data");
    const tooBig = { blob: "x".repeat(9000) };
    await expectError(await asUser(alice, "/v1/sessions", "POST", { profileId, data: tooBig }), 400, "BAD_REQUEST");
    expect(agent.received.filter(isStart)).toHaveLength(0);
    const [server] = await listServers("launch-data");
    expect(server).toMatchObject({ pendingSessions: 0 });
  });

  it("refuses a profile whose launcher name could be a path", async () => {
    for (const name of ["../bin/sh", "/usr/bin/xterm", "Xvnc", ".hidden", ""]) {
      const response = await admin("/v1/admin/profiles", "POST", { id: "bad-launcher", name: "bad", pool: "default", mode: "relay", launcher: { name } });
      await expectError(response, 400, "BAD_REQUEST");
    }
  });
});

describe("terminating a launched session", () => {
  it("lets the owner end it: the node gets terminate with a reason, and the session leaves the list at once", async () => {
    const { agent, profileId, node } = await launcherPool("launch-end");
    agent.answers["start"] = { result: { state: "running" } };
    agent.answers["terminate"] = { result: {} };
    const { sessionId } = (await (await asUser(alice, "/v1/sessions", "POST", { profileId })).json()) as { sessionId: string };
    await beat(node, sampleBody({ sessions: [{ id: sessionId, user: "alice-launch", state: "running", startedAt: Date.now() }], users: ["alice-launch"] }));
    await expectError(await asUser(bob, `/v1/sessions/${sessionId}`, "DELETE"), 404, "NOT_FOUND");
    const ended = await asUser(alice, `/v1/sessions/${sessionId}`, "DELETE");
    expect(ended.status).toBe(204);
    const terminate = await agent.waitFor(isTerminate);
    expect(terminate.params).toEqual({ sessionId, reason: "session ended by its user" });
    expect(await mySessions(alice, "launch-end")).toEqual([]);
    await expectError(await asUser(alice, `/v1/sessions/${sessionId}`, "DELETE"), 404, "NOT_FOUND");
  });

  it("lets an admin end anyone's, and answers 409 for a session the node did not launch", async () => {
    const { agent, profileId, node } = await launcherPool("launch-admin");
    agent.answers["start"] = { result: { state: "running" } };
    agent.answers["terminate"] = { result: {} };
    const { sessionId } = (await (await asUser(bob, "/v1/sessions", "POST", { profileId })).json()) as { sessionId: string };
    expect((await admin(`/v1/sessions/${sessionId}`, "DELETE")).status).toBe(204);
    expect((await agent.waitFor(isTerminate)).params.reason).toBe("session ended by an administrator");
    await beat(node, sampleBody({ sessions: [{ id: "x2go-50-1_stDLXDE_dp24", user: "bob-launch", state: "running", startedAt: Date.now() }], users: ["bob-launch"] }));
    agent.answers["terminate"] = { error: { code: "UNKNOWN_SESSION", message: "no launched session x2go-50-1_stDLXDE_dp24 on this node" } };
    await expectError(await asUser(bob, "/v1/sessions/x2go-50-1_stDLXDE_dp24", "DELETE"), 409, "CONFLICT");
    expect(await mySessions(bob, "launch-admin")).toEqual([expect.objectContaining({ id: "x2go-50-1_stDLXDE_dp24" })]);
  });

  it("lets an admin end a launched session from the dashboard's Sessions page", async () => {
    const { agent, profileId, node } = await launcherPool("launch-ui");
    agent.answers["start"] = { result: { state: "running", display: ":3" } };
    agent.answers["terminate"] = { result: {} };
    const { sessionId } = (await (await asUser(alice, "/v1/sessions", "POST", { profileId })).json()) as { sessionId: string };
    const ui = await dashboardSession();
    const page = await (await ui.get("/admin/sessions?user=alice-launch")).text();
    expect(page).toContain('action="/admin/sessions/terminate"');
    const done = await ui.post("/admin/sessions/terminate", { pool: "launch-ui", serverId: node.serverId, sessionId });
    expect(done.status).toBe(303);
    expect(done.headers.get("Location")).toBe("/admin/sessions?notice=session-terminated");
    expect((await agent.waitFor(isTerminate)).params).toEqual({ sessionId, reason: "session ended by an administrator" });
    expect(await mySessions(alice, "launch-ui")).toEqual([]);
  });

  it("answers 409 NODE_NOT_CONNECTED when the node's channel is down, and keeps the session", async () => {
    const { agent, profileId, node } = await launcherPool("launch-offline");
    agent.answers["start"] = { result: { state: "running" } };
    const { sessionId } = (await (await asUser(alice, "/v1/sessions", "POST", { profileId })).json()) as { sessionId: string };
    await beat(node, sampleBody({ sessions: [{ id: sessionId, user: "alice-launch", state: "running", startedAt: Date.now() }], users: ["alice-launch"] }));
    await closeChannel(agent, "launch-offline");
    await expectError(await asUser(alice, `/v1/sessions/${sessionId}`, "DELETE"), 409, "NODE_NOT_CONNECTED");
    expect(await mySessions(alice, "launch-offline")).toHaveLength(1);
  });
});
