/**
 * Logon-storm admission (issue 16 item 7): a pool's `maxStartingPerNode` caps the new sessions a
 * node has starting (placed but not yet reported). Starts beyond it wait in line when the profile
 * queues, or get today's 503; a node's beat that shows the session running lets the next one in;
 * resuming a session is exempt.
 */
import { describe, expect, it } from "vitest";
import { admin, asUser, beat, enrolNode, expectError, sampleBody, type TestNode, userToken } from "./helpers.ts";

async function cappedPool(name: string, cap: number): Promise<TestNode[]> {
  expect((await admin("/v1/admin/pools", "POST", { name, intervalMs: 300_000, maxStartingPerNode: cap })).status).toBe(201);
  const nodes = [await enrolNode(`${name}-a`, name), await enrolNode(`${name}-b`, name)];
  for (const node of nodes) await report(node, []);
  const queue = { enabled: true, maxLength: 10, maxWaitSeconds: 600 };
  expect((await admin("/v1/admin/profiles", "POST", { id: `${name}-q`, name: "Q", pool: name, mode: "relay", queue })).status).toBe(201);
  expect((await admin("/v1/admin/profiles", "POST", { id: `${name}-plain`, name: "P", pool: name, mode: "relay" })).status).toBe(201);
  return nodes;
}

async function report(node: TestNode, sessions: Array<{ id: string; user: string; state: "running" | "suspended" }>): Promise<void> {
  const reported = sessions.map((session) => ({ ...session, startedAt: 1_700_000_000_000 }));
  expect((await beat(node, sampleBody({ sessions: reported, users: [], staticData: { maxSessions: 10 } }))).status).toBe(200);
}

const tokens = new Map<string, string>();
async function tokenOf(login: string): Promise<string> {
  if (!tokens.has(login)) tokens.set(login, await userToken(login));
  return tokens.get(login) as string;
}
const start = async (login: string, profileId: string) => asUser(await tokenOf(login), "/v1/sessions", "POST", { profileId });

describe("logon-storm admission", () => {
  it("queues starts beyond the cap per node, and lets the next in once a start is reported", async () => {
    const nodes = await cappedPool("sc-storm", 1);
    const first = (await (await start("sc-u1", "sc-storm-q")).json()) as { serverId: string };
    const second = (await (await start("sc-u2", "sc-storm-q")).json()) as { serverId: string };
    expect(new Set([first.serverId, second.serverId]).size).toBe(2);
    const waiting = await start("sc-u3", "sc-storm-q");
    expect(waiting.status).toBe(202);
    const place = ((await waiting.json()) as { queued: { id: string; position: number } }).queued;
    expect(place.position).toBe(1);
    await expectError(await start("sc-u4", "sc-storm-plain"), 503, "NO_SERVER_AVAILABLE");
    const firstNode = nodes.find((node) => node.serverId === first.serverId) as TestNode;
    await report(firstNode, [{ id: "sc-u1-1", user: "sc-u1", state: "running" }]);
    const placed = await asUser(await tokenOf("sc-u3"), `/v1/queue/${place.id}?wait=5`);
    expect(await placed.json()).toMatchObject({ state: "running", serverId: first.serverId });
  });

  it("resumes a user's session on a node at the cap", async () => {
    const nodes = await cappedPool("sc-resume", 1);
    await report(nodes[0] as TestNode, [{ id: "sc-back-1", user: "sc-back", state: "suspended" }]);
    await report(nodes[1] as TestNode, []);
    expect((await start("sc-r1", "sc-resume-plain")).status).toBe(201);
    expect((await start("sc-r2", "sc-resume-plain")).status).toBe(201);
    const resumed = await start("sc-back", "sc-resume-plain");
    expect(resumed.status).toBe(201);
    expect(await resumed.json()).toMatchObject({ resumed: true, sessionId: "sc-back-1" });
  });

  it("is a pool setting admins read and change, and refuse out of range", async () => {
    await cappedPool("sc-setting", 2);
    expect(await (await admin("/v1/admin/pools/sc-setting")).json()).toMatchObject({ maxStartingPerNode: 2 });
    expect(await (await admin("/v1/admin/pools/sc-setting", "PATCH", { maxStartingPerNode: null })).json()).toMatchObject({ maxStartingPerNode: null });
    await expectError(await admin("/v1/admin/pools/sc-setting", "PATCH", { maxStartingPerNode: 0 }), 400, "BAD_REQUEST");
  });
});
