/**
 * The portal and the wait line in real Chromium (issue 16: "the user portal shows the position
 * live"; root only, needs `npm run test:e2e:setup`): the local broker, one real agent (as
 * edge-agent) whose `xvnc` launcher starts each user's own Xvnc, and a node with room for one
 * session (`maxSessions: 1`). alice starts a desktop from the portal; bob's start, in a browser
 * context of his own, shows "number 1 in line", carol's "number 2"; bob clicks "Leave the line":
 * his page says he left (his second tab on the same place, that it is gone) and carol's page
 * says "number 1" without a reload; alice's session ends (DELETE /v1/sessions/:id) and carol's
 * page connects by itself and shows her desktop's pixels. Disconnect while waiting stops following
 * the place (kept), Reconnect follows it again; a place that waits past the profile's
 * maxWaitSeconds, and one an admin removes, end the page with their message. Timings go to
 * test-results/e2e/portal-queue-timings.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, call } from "../harness/client.ts";
import { waitFor } from "../harness/wait.ts";
import { saveScreenshot, waitForPicture } from "./browser.ts";
import { DESKTOP_COLOURS, type LaunchCluster, SOLID_DESKTOP, startLaunchCluster, userPassword } from "./launch-cluster.ts";
import { DESKTOP_GEOMETRY, listMySessions, solidPicture, xvncPidOf } from "./launched-desktops.ts";
import { launchPortalBrowser, type PortalBrowser, type PortalUser, startFromHome, statusLog, waitForState, waitForStatus } from "./portal-users.ts";
import { e2eSuite, RESULTS_DIR } from "./suite.ts";

const suite = e2eSuite("e2e-portal-queue");
const LOGINS = ["alice", "bob", "carol"] as const;
type Login = (typeof LOGINS)[number];
const launcher = { name: "xvnc", params: { session: [SOLID_DESKTOP], geometry: DESKTOP_GEOMETRY, depth: 24 } };
/** The profile people wait for, and one whose places lapse after the shortest wait a profile may have. */
const MAIN = { id: "queue-desk", name: "Queued desktop", queue: { enabled: true, maxLength: 10, maxWaitSeconds: 600 } };
const BRIEF = { id: "queue-brief", name: "Brief wait desktop", queue: { enabled: true, maxLength: 10, maxWaitSeconds: 10 } };

let cluster: LaunchCluster;
let portal: PortalBrowser;
const tokens = {} as Record<Login, string>;
const users = {} as Record<Login, PortalUser>;
/** Each user's desktop page in the test at hand. */
const pages = {} as Record<Login, Page>;
const timings: Record<string, number> = {};

const user = (login: Login) => users[login] ?? (() => { throw new Error(`${login} is not signed in: the setup failed`); })();
const inLine = (position: number) => new RegExp(`^all servers are busy; you are number ${position} in line( \\(about \\d+ s\\))?$`);

interface QueueEntry { id: string; user: string; profileId: string; position: number | null; expiresAt: number }
const poolQueue = async () => (await adminCall<{ queue: QueueEntry[] }>(cluster.broker, "/v1/admin/pools/default/queue")).queue;
async function placeOf(login: Login): Promise<QueueEntry> {
  const entry = (await poolQueue()).find((candidate) => candidate.user === login);
  if (!entry) throw new Error(`${login} has no place in the line`);
  return entry;
}

/** Opens a desktop page for `login` from their home page and starts `profileName` there. */
async function startInPortal(login: Login, profileName: string, pageName: string): Promise<Page> {
  const page = await user(login).newPage(pageName);
  await startFromHome(page, cluster.broker.url, profileName);
  pages[login] = page;
  return page;
}

beforeAll(() =>
  suite.guard("setup", async () => {
    // Desktops outlive the agent: once it has stopped, end every Xvnc it launched (its log names them),
    // also one placed from the line while the suite was ending.
    suite.defer(async () => {
      if (!cluster || !existsSync(cluster.agentLog)) return;
      for (const [, login = "", id = ""] of readFileSync(cluster.agentLog, "utf8").matchAll(/launch: (\w+) session (rsv_\w+) \(xvnc\) running/g)) {
        const pid = await xvncPidOf(login, id);
        if (pid !== null) process.kill(pid, "SIGTERM");
      }
    });
    cluster = await startLaunchCluster({ dir: suite.dir });
    suite.defer(() => cluster.stop());
    // Empty the line first, so that ending sessions places nobody; then end every session of the suite's users.
    suite.defer(async () => {
      for (const entry of await poolQueue().catch(() => [])) await adminCall(cluster.broker, `/v1/admin/pools/default/queue/${entry.id}`, "DELETE").catch(() => undefined);
      for (const login of LOGINS) {
        if (!tokens[login]) continue;
        for (const session of await listMySessions(cluster.broker.url, tokens[login]).catch(() => [])) {
          await call(cluster.broker.url, `/v1/sessions/${session.id}`, { method: "DELETE", token: tokens[login] }).catch(() => undefined);
        }
      }
    });
    for (const login of LOGINS) tokens[login] = await cluster.addUser(login);
    // One node with room for one session: every second desktop waits.
    await adminCall(cluster.broker, `/v1/admin/pools/default/servers/${cluster.agent.serverId}/static-data`, "PUT", { staticData: { maxSessions: 1 } });
    for (const profile of [MAIN, BRIEF]) await adminCall(cluster.broker, "/v1/admin/profiles", "POST", { ...profile, pool: "default", mode: "relay", maxSessionsPerUser: 100, launcher });
    portal = await launchPortalBrowser(cluster.broker.url, suite.dir);
    suite.defer(() => portal.close());
    for (const login of LOGINS) users[login] = await portal.signIn(login, userPassword(login));
  }),
);

describe("the portal's desktop page and the wait line, in Chromium", () => {
  it("alice starts a desktop from the portal: it runs, her pixels through the relay, the node is full", async () => {
    const clickedAt = Date.now();
    const page = await startInPortal("alice", MAIN.name, "desktop");
    const info = await waitForState(page, "connected", 30_000);
    timings["directStartToConnectedMs"] = Date.now() - clickedAt;
    expect(info).toMatchObject({ connects: 1, serverId: cluster.agent.serverId });
    expect((await waitForPicture(page, solidPicture(DESKTOP_COLOURS.alice), { timeoutMs: 20_000 })).mismatches).toEqual([]);
    timings["directStartToDesktopShownMs"] = Date.now() - clickedAt;
    expect((await listMySessions(cluster.broker.url, tokens.alice)).map((session) => session.profileId)).toEqual([MAIN.id]);
  });

  it("bob's start waits as number 1 in line, carol's as number 2: shown on their pages", async () => {
    const bob = await startInPortal("bob", MAIN.name, "desktop");
    expect((await waitForStatus(bob, inLine(1), { state: "waiting" })).text).toMatch(inLine(1));
    const carol = await startInPortal("carol", MAIN.name, "desktop");
    await waitForStatus(carol, inLine(2), { state: "waiting" });
    expect((await poolQueue()).map((entry) => [entry.user, entry.position])).toEqual([["bob", 1], ["carol", 2]]);
    // Nothing was started for either: no session, no Xvnc; bob's page still says number 1.
    expect(await listMySessions(cluster.broker.url, tokens.bob)).toEqual([]);
    expect(await listMySessions(cluster.broker.url, tokens.carol)).toEqual([]);
    expect((await statusLog(bob)).entries.at(-1)?.text).toMatch(inLine(1));
    expect(await bob.locator("#screen canvas").count()).toBe(0);
  });

  it("bob clicks Leave the line: his page says he left, carol's moves to number 1 live, his other tab says the place is gone", async () => {
    const carol = pages.carol;
    const loadedBefore = (await statusLog(carol)).loadedAt;
    const bobPlace = await placeOf("bob");
    // A second tab of bob's starts the same profile: it follows the same place (one per user and profile).
    const otherTab = await user("bob").newPage("desktop-2");
    await startFromHome(otherTab, cluster.broker.url, MAIN.name);
    await waitForStatus(otherTab, inLine(1), { state: "waiting" });
    expect((await poolQueue()).map((entry) => [entry.user, entry.position])).toEqual([["bob", 1], ["carol", 2]]);
    expect((await placeOf("bob")).id).toBe(bobPlace.id);
    const bob = pages.bob;
    const leftAt = Date.now();
    await bob.getByRole("button", { name: "Leave the line" }).click();
    const left = await waitForStatus(bob, /^You left the line\.$/, { state: "left", timeoutMs: 10_000 });
    timings["leaveClickedToLeftShownMs"] = left.at - leftAt;
    const moved = await waitForStatus(carol, inLine(1), { state: "waiting", timeoutMs: 10_000 });
    timings["leftToNextPositionShownMs"] = moved.at - leftAt;
    const { loadedAt, entries } = await statusLog(carol);
    expect(loadedAt, "carol's page reloaded").toBe(loadedBefore);
    expect(entries.map((entry) => entry.text).filter((text) => /in line/.test(text))).toEqual([expect.stringMatching(inLine(2)), expect.stringMatching(inLine(1))]);
    expect((await poolQueue()).map((entry) => [entry.user, entry.position])).toEqual([["carol", 1]]);
    // bob's page stopped following (no "gone" from its dropped long-poll) and offers a new start and the way back.
    expect((await statusLog(bob)).entries.slice(-3).map((entry) => [entry.state, entry.text])).toEqual([
      ["waiting", expect.stringMatching(inLine(1))],
      ["waiting", "Leaving the line…"],
      ["left", "You left the line."],
    ]);
    expect(await bob.getByRole("button", { name: "Leave the line" }).isVisible()).toBe(false);
    expect(await bob.getByRole("button", { name: "Start again" }).isVisible()).toBe(true);
    expect(await bob.getByRole("link", { name: "Back to my desktops" }).isVisible()).toBe(true);
    expect(await listMySessions(cluster.broker.url, tokens.bob)).toEqual([]);
    // bob's other tab learns from its long-poll that the place is gone: said for people, without the place's id.
    const gone = await waitForStatus(otherTab, /^Your place in line is gone \(it was removed or expired\)\. Start again to rejoin\.$/, { state: "failed", timeoutMs: 10_000 });
    expect(gone.text).not.toContain(bobPlace.id);
    expect(await otherTab.getByRole("button", { name: "Start again" }).isVisible()).toBe(true);
    await otherTab.close();
    console.log(`bob left the line: his page said so ${timings["leaveClickedToLeftShownMs"]} ms after the click, carol's page showed number 1 after ${timings["leftToNextPositionShownMs"]} ms; his other tab: ${gone.text}`);
  });

  it("alice's session ends: carol's waiting page connects by itself and shows carol's desktop", async () => {
    await pages.alice.close();
    const [alice] = await listMySessions(cluster.broker.url, tokens.alice);
    if (!alice) throw new Error("alice has no session");
    const carol = pages.carol;
    const loadedBefore = (await statusLog(carol)).loadedAt;
    const endedAt = Date.now();
    const ended = await call(cluster.broker.url, `/v1/sessions/${alice.id}`, { method: "DELETE", token: tokens.alice });
    timings["terminateAnsweredMs"] = Date.now() - endedAt;
    expect(ended.status, ended.text).toBe(204);
    const info = await waitForState(carol, "connected", 60_000);
    timings["endedToConnectedMs"] = Date.now() - endedAt;
    const picture = await waitForPicture(carol, solidPicture(DESKTOP_COLOURS.other), { timeoutMs: 20_000 });
    timings["endedToDesktopShownMs"] = Date.now() - endedAt;
    expect(picture.mismatches).toEqual([]);
    expect(info).toMatchObject({ connects: 1, serverId: cluster.agent.serverId });
    const { loadedAt, entries } = await statusLog(carol);
    expect(loadedAt, "carol's page reloaded").toBe(loadedBefore);
    // What the page showed once it left the line: "your session is being started" while the node launches it.
    const lastInLine = entries.findLastIndex((entry) => inLine(1).test(entry.text));
    const placedAt = entries[lastInLine + 1]?.at ?? Number.NaN;
    expect(entries.slice(lastInLine + 1).map((entry) => entry.state)).toEqual(["waiting", "connecting", "connected"]);
    expect(entries[lastInLine + 1]?.text).toBe("your session is being started");
    timings["endedToPlaceLeftLineShownMs"] = placedAt - endedAt;
    const connected = entries.find((entry) => entry.state === "connected");
    timings["placeLeftLineToConnectedMs"] = (connected?.at ?? Number.NaN) - placedAt;
    console.log(`carol's page after alice's session ended: ${JSON.stringify(entries.slice(lastInLine).map((entry) => [entry.at - endedAt, entry.state, entry.text]))}`);
    // carol's desktop is a session of hers on the one node, launched from the line; the line is empty.
    expect((await listMySessions(cluster.broker.url, tokens.carol)).map((session) => [session.id, session.profileId])).toEqual([[info.sessionId, MAIN.id]]);
    expect(await xvncPidOf("carol", info.sessionId ?? "")).not.toBeNull();
    expect(await poolQueue()).toEqual([]);
    await saveScreenshot(carol, join(RESULTS_DIR, "portal-queue-placed.png"));
  });

  it("Disconnect while waiting stops following the place and Reconnect follows it again; an expired place and an admin's removal end their pages with the reason", async () => {
    // carol holds the one slot; bob waits on the brief profile (10 s), alice behind him on the main one.
    const bob = await startInPortal("bob", BRIEF.name, "brief");
    await waitForStatus(bob, inLine(1), { state: "waiting" });
    const bobPlace = await placeOf("bob");
    const alice = await startInPortal("alice", MAIN.name, "in-line");
    await waitForStatus(alice, inLine(2), { state: "waiting" });
    const alicePlace = await placeOf("alice");
    await alice.getByRole("button", { name: "Disconnect" }).click();
    const stopped = await waitForStatus(alice, /place in line/, { state: "disconnected" });

    const bobEnd = await waitForStatus(bob, new RegExp(`^no server became free for profile ${BRIEF.id} within 10 s; you have left the line \\(start again to rejoin it\\)$`), {
      state: "failed",
      timeoutMs: 30_000,
    });
    timings["expiresAtToShownMs"] = bobEnd.at - bobPlace.expiresAt;
    expect(timings["expiresAtToShownMs"]).toBeGreaterThanOrEqual(0);
    expect(await listMySessions(cluster.broker.url, tokens.bob)).toEqual([]);
    await saveScreenshot(bob, join(RESULTS_DIR, "portal-queue-expired.png"));
    // alice moved up to number 1 while her page was disconnected: it stays so (her long-poll answered at once).
    expect((await placeOf("alice")).position).toBe(1);
    await alice.waitForTimeout(1000);
    expect((await statusLog(alice)).entries.at(-1)).toEqual(stopped);
    await alice.getByRole("button", { name: "Reconnect" }).click();
    await waitForStatus(alice, inLine(1), { state: "waiting" });
    expect((await placeOf("alice")).id, "Reconnect kept alice's place").toBe(alicePlace.id);

    const removedAt = Date.now();
    const removed = await call(cluster.broker.url, `/v1/admin/pools/default/queue/${alicePlace.id}`, { method: "DELETE", token: cluster.broker.adminToken });
    expect(removed.status, removed.text).toBe(204);
    const aliceEnd = await waitForStatus(alice, /^an administrator removed you from the line$/, { state: "failed", timeoutMs: 10_000 });
    timings["adminRemovedToShownMs"] = aliceEnd.at - removedAt;
    expect(await alice.getByRole("button", { name: "Start again" }).isVisible()).toBe(true);
    expect(await poolQueue()).toEqual([]);
    console.log(`expiry shown ${timings["expiresAtToShownMs"]} ms after expiresAt; admin removal shown ${timings["adminRemovedToShownMs"]} ms after the DELETE was sent`);
  });

  it("writes the timings", async () => {
    const carol = (await listMySessions(cluster.broker.url, tokens.carol))[0];
    if (carol) expect((await call(cluster.broker.url, `/v1/sessions/${carol.id}`, { method: "DELETE", token: tokens.carol })).status).toBe(204);
    await waitFor(async () => (await listMySessions(cluster.broker.url, tokens.carol)).length === 0, 5_000, "carol's session to end");
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, "portal-queue-timings.json"), `${JSON.stringify(timings, null, 2)}\n`);
    console.log(`portal queue timings (ms): ${JSON.stringify(timings)}`);
  });
});
