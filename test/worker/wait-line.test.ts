/**
 * The wait line (issue 16): a queueing profile's start that finds every server full gets a place
 * (202) instead of 503; the pool object holds the line first come first served, one place per
 * user and profile; a freed slot goes to the head, whose long-poll answers with the same
 * connection answer a start gives; leaving, expiry, admin removal, and X2Go's pseudo-host.
 */
import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, asUser, beat, dashboardSession, enrolNode, expectError, sampleBody, type TestNode, userToken } from "./helpers.ts";

const QUEUE = { enabled: true, maxLength: 3, maxWaitSeconds: 600 };

/** A pool of one node with room for `maxSessions`, and a relay profile with a wait line. */
async function fullPool(name: string, options: { maxSessions?: number; queue?: Record<string, unknown> | null } = {}): Promise<TestNode> {
  expect((await admin("/v1/admin/pools", "POST", { name, intervalMs: 300_000 })).status).toBe(201);
  const node = await enrolNode(`${name}-1`, name);
  await beatSessions(node, [], options.maxSessions ?? 1);
  const queue = options.queue === undefined ? QUEUE : options.queue;
  expect((await admin("/v1/admin/profiles", "POST", { id: `${name}-desk`, name: "Desk", pool: name, mode: "relay", queue })).status).toBe(201);
  return node;
}

async function beatSessions(node: TestNode, users: string[], maxSessions = 1): Promise<void> {
  const sessions = users.map((user, index) => ({ id: `${node.hostname}-${user}-${index}`, user, state: "running" as const, startedAt: 1_700_000_000_000 }));
  expect((await beat(node, sampleBody({ sessions, users, staticData: { maxSessions } }))).status).toBe(200);
}

interface Queued {
  state: "queued";
  queued: { id: string; position: number; message: string; since: number; expiresAt: number };
}

const start = (token: string, profileId: string) => asUser(token, "/v1/sessions", "POST", { profileId });

async function queuedStart(token: string, profileId: string): Promise<Queued> {
  const response = await start(token, profileId);
  expect(response.status, await response.clone().text()).toBe(202);
  return (await response.json()) as Queued;
}

describe("wait line: joining", () => {
  it("answers 202 with a place when the pool is full, in arrival order, one place per user and profile", async () => {
    await fullPool("wl-join");
    expect((await start(await userToken("wl-alice"), "wl-join-desk")).status).toBe(201);
    const bob = await userToken("wl-bob");
    const first = await queuedStart(bob, "wl-join-desk");
    expect(first.queued).toMatchObject({ position: 1, message: "all servers are busy; you are number 1 in line" });
    expect(first.queued.id).toMatch(/^wl-join\.wq_[A-Za-z0-9]{20}$/);
    const carol = await queuedStart(await userToken("wl-carol"), "wl-join-desk");
    expect(carol.queued.position).toBe(2);
    const again = await queuedStart(bob, "wl-join-desk");
    expect(again.queued).toMatchObject({ id: first.queued.id, position: 1 });
    const read = await asUser(bob, `/v1/queue/${first.queued.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ state: "queued", queued: { id: first.queued.id, position: 1 } });
  });

  it("keeps today's 503 when the line is full or the profile has none", async () => {
    await fullPool("wl-full", { queue: { enabled: true, maxLength: 1, maxWaitSeconds: 60 } });
    expect((await start(await userToken("wl-f1"), "wl-full-desk")).status).toBe(201);
    await queuedStart(await userToken("wl-f2"), "wl-full-desk");
    const refused = await start(await userToken("wl-f3"), "wl-full-desk");
    await expectError(refused.clone(), 503, "NO_SERVER_AVAILABLE");
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("line for profile wl-full-desk is full");
    await fullPool("wl-none", { queue: null });
    expect((await start(await userToken("wl-n1"), "wl-none-desk")).status).toBe(201);
    await expectError(await start(await userToken("wl-n2"), "wl-none-desk"), 503, "NO_SERVER_AVAILABLE");
    await fullPool("wl-off", { queue: { enabled: false, maxLength: 5, maxWaitSeconds: 60 } });
    expect((await start(await userToken("wl-o1"), "wl-off-desk")).status).toBe(201);
    await expectError(await start(await userToken("wl-o2"), "wl-off-desk"), 503, "NO_SERVER_AVAILABLE");
  });
});

describe("wait line: a slot frees", () => {
  it("places the head when a session ends: its long-poll answers with a relay ticket, the next moves up", async () => {
    const node = await fullPool("wl-free");
    expect((await start(await userToken("wl-u1"), "wl-free-desk")).status).toBe(201);
    await beatSessions(node, ["wl-u1"]);
    const bob = await userToken("wl-u2");
    const carol = await userToken("wl-u3");
    const bobPlace = await queuedStart(bob, "wl-free-desk");
    const carolPlace = await queuedStart(carol, "wl-free-desk");
    const bobWaits = asUser(bob, `/v1/queue/${bobPlace.queued.id}?wait=20`);
    const carolWaits = asUser(carol, `/v1/queue/${carolPlace.queued.id}?wait=20&position=2`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await beatSessions(node, []);
    const placed = await bobWaits;
    expect(placed.status).toBe(200);
    expect(await placed.json()).toMatchObject({ state: "running", profileId: "wl-free-desk", resumed: false, relay: { ticket: expect.any(String) } });
    expect(await (await carolWaits).json()).toMatchObject({ state: "queued", queued: { position: 1 } });
    // The new start is not overtaken: a newcomer joins behind carol.
    expect((await queuedStart(await userToken("wl-u4"), "wl-free-desk")).queued.position).toBe(2);
  });

  it("places the head when an admin lifts a drain, and after the object is evicted", async () => {
    const node = await fullPool("wl-drain");
    expect((await admin(`/v1/admin/pools/wl-drain/servers/${node.serverId}/drain`, "POST")).status).toBe(200);
    const dave = await userToken("wl-dave");
    const place = await queuedStart(dave, "wl-drain-desk");
    await evictDurableObject(env.POOL.getByName("wl-drain"));
    expect(await (await asUser(dave, `/v1/queue/${place.queued.id}`)).json()).toMatchObject({ queued: { position: 1 } });
    expect((await admin(`/v1/admin/pools/wl-drain/servers/${node.serverId}/undrain`, "POST")).status).toBe(200);
    expect(await (await asUser(dave, `/v1/queue/${place.queued.id}?wait=5`)).json()).toMatchObject({ state: "running", serverId: node.serverId });
  });
});

describe("wait line: estimates", () => {
  it("estimates the wait from recent placements once there are three, and still after the object is evicted", async () => {
    const node = await fullPool("wl-est", { queue: { enabled: true, maxLength: 10, maxWaitSeconds: 600 } });
    expect((await start(await userToken("wl-est0"), "wl-est-desk")).status).toBe(201);
    await beatSessions(node, ["wl-est0"]);
    const users = ["wl-est1", "wl-est2", "wl-est3", "wl-est4"];
    const places = [];
    for (const user of users) {
      const token = await userToken(user);
      places.push({ token, place: await queuedStart(token, "wl-est-desk") });
    }
    const last = places[3] as { token: string; place: Queued };
    const view = async () => ((await (await asUser(last.token, `/v1/queue/${last.place.queued.id}`)).json()) as { queued: { position: number; estimateSeconds?: number; message: string } }).queued;
    expect(await view()).not.toHaveProperty("estimateSeconds");
    for (const user of users.slice(0, 3)) {
      await beatSessions(node, []); // the running session ends: the head is placed
      await beatSessions(node, [user]); // and its session starts, filling the server again
    }
    const estimated = await view();
    expect(estimated).toMatchObject({ position: 1, estimateSeconds: expect.any(Number), message: expect.stringMatching(/you are number 1 in line \(about \d+ s\)/) });
    await evictDurableObject(env.POOL.getByName("wl-est"));
    expect(await view()).toEqual(estimated);
  });
});

describe("wait line: leaving", () => {
  it("lets a user leave (204, then 404) and never shows anyone else's place", async () => {
    await fullPool("wl-leave");
    expect((await start(await userToken("wl-l1"), "wl-leave-desk")).status).toBe(201);
    const erin = await userToken("wl-erin");
    const place = await queuedStart(erin, "wl-leave-desk");
    const mallory = await userToken("wl-mallory");
    await expectError(await asUser(mallory, `/v1/queue/${place.queued.id}`), 404, "NOT_FOUND");
    await expectError(await asUser(mallory, `/v1/queue/${place.queued.id}`, "DELETE"), 404, "NOT_FOUND");
    expect((await asUser(erin, `/v1/queue/${place.queued.id}`, "DELETE")).status).toBe(204);
    await expectError(await asUser(erin, `/v1/queue/${place.queued.id}`), 404, "NOT_FOUND");
    await expectError(await asUser(erin, "/v1/queue/not-a-queue-id"), 400, "BAD_REQUEST");
  });

  it("expires a place after maxWaitSeconds with 410 and a clear message", async () => {
    await fullPool("wl-expire");
    expect((await start(await userToken("wl-e1"), "wl-expire-desk")).status).toBe(201);
    const frank = await userToken("wl-frank");
    const place = await queuedStart(frank, "wl-expire-desk");
    const stub = env.POOL.getByName("wl-expire");
    // The clock cannot be moved in workerd: age the stored entry, reload the object, run its alarm.
    await runInDurableObject(stub, (_instance, state) => void state.storage.sql.exec("UPDATE wait_line SET expires_at = 1, deadline_at = 1"));
    await evictDurableObject(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const gone = await asUser(frank, `/v1/queue/${place.queued.id}`);
    await expectError(gone.clone(), 410, "NO_LONGER_QUEUED");
    expect(((await gone.json()) as { error: { message: string } }).error.message).toContain("you have left the line");
  });

  it("shows admins the line in order and lets them remove an entry (the user is told, 410)", async () => {
    await fullPool("wl-admin");
    expect((await start(await userToken("wl-a1"), "wl-admin-desk")).status).toBe(201);
    const gina = await userToken("wl-gina");
    const ginaPlace = await queuedStart(gina, "wl-admin-desk");
    await queuedStart(await userToken("wl-hank"), "wl-admin-desk");
    const listed = await admin("/v1/admin/pools/wl-admin/queue");
    expect(listed.status).toBe(200);
    const { queue } = (await listed.json()) as { queue: Array<{ id: string; user: string; position: number; since: number }> };
    expect(queue.map((entry) => [entry.user, entry.position])).toEqual([["wl-gina", 1], ["wl-hank", 2]]);
    const entryId = ginaPlace.queued.id.split(".")[1] as string;
    expect((await admin(`/v1/admin/pools/wl-admin/queue/${entryId}`, "DELETE")).status).toBe(204);
    await expectError(await asUser(gina, `/v1/queue/${ginaPlace.queued.id}`), 410, "NO_LONGER_QUEUED");
    await expectError(await admin(`/v1/admin/pools/wl-admin/queue/${entryId}`, "DELETE"), 404, "NOT_FOUND");
    await expectError(await admin("/v1/admin/pools/wl-nope/queue"), 404, "NOT_FOUND");
  });

  it("shows the line on the dashboard's sessions page, where an admin removes a place", async () => {
    await fullPool("wl-ui");
    expect((await start(await userToken("wl-ui1"), "wl-ui-desk")).status).toBe(201);
    const ivan = await userToken("wl-ivan");
    const place = await queuedStart(ivan, "wl-ui-desk");
    const dashboard = await dashboardSession();
    const page = await (await dashboard.get("/admin/sessions")).text();
    expect(page).toContain("<th scope=\"row\">wl-ivan</th>");
    const entryId = place.queued.id.split(".")[1] as string;
    const removed = await dashboard.post("/admin/sessions/queue/remove", { pool: "wl-ui", entryId });
    expect(removed.status).toBe(303);
    expect(removed.headers.get("Location")).toBe("/admin/sessions?notice=queue-removed");
    await expectError(await asUser(ivan, `/v1/queue/${place.queued.id}`), 410, "NO_LONGER_QUEUED");
    expect(await (await dashboard.get("/admin/sessions")).text()).not.toContain("wl-ivan</th>");
  });
});
