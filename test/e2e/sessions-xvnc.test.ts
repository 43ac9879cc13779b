/**
 * Sessions that exist, end to end with the `xvnc` launcher (issue 14 item 6; root only, needs
 * `npm run test:e2e:setup`): the local broker, a real agent process running as the unprivileged
 * `edge-agent` (launchers through the shipped sudoers rule), and Debian's noVNC in real Chromium
 * through the broker's relay → the agent's node gateway → each user's own Xvnc on its unix
 * socket. alice and bob start desktops on the same node with one profile; each sees their own
 * (fixtures/solid-desktop paints each login's colour, checked pixel by pixel and against a solid
 * image). An assertion for alice cannot open bob's session at the gateway. alice leaves a marker
 * (an OSC 11 colour change typed into her desktop), closes the tab, and her next start resumes
 * the same desktop with the marker. `DELETE /v1/sessions/:id` ends it: the Xvnc exits, the live
 * connection closes with 4000 and the reason, and the session leaves the list within one
 * heartbeat. Nothing is mocked. Screenshots go to test-results/e2e/.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { call, callOk } from "../harness/client.ts";
import { waitFor } from "../harness/wait.ts";
import { connect } from "../node/agent/gateway/helpers.ts";
import { type Chromium, launchChromium, type NoVncServer, noVncStatus, saveScreenshot, serveNoVnc, waitForPicture } from "./browser.ts";
import { DESKTOP_COLOURS, type LaunchCluster, SOLID_DESKTOP, startLaunchCluster } from "./launch-cluster.ts";
import { DESKTOP_GEOMETRY, listMySessions, nodeAssertion, openRelayed, type SessionAnswer, solidPicture, typeIntoDesktop, xvncPidOf } from "./launched-desktops.ts";
import { AGENT_USER } from "./node-accounts.ts";
import { differingPixels, e2eSuite, RESULTS_DIR } from "./suite.ts";

const execFileAsync = promisify(execFile);
const suite = e2eSuite("e2e-sessions-xvnc");
const PROFILE = "xvnc-desk";
/** alice's marker: her xterm's background becomes this colour (OSC 11) and stays so while the desktop runs. */
const MARKER_RGB = 0x20a040;
const MARKER_COMMAND = "printf '\\033]11;#20a040\\007'";

let cluster: LaunchCluster;
let server: NoVncServer;
let browser: Chromium;
const tokens: Record<"alice" | "bob", string> = { alice: "", bob: "" };
const started: Record<"alice" | "bob", SessionAnswer | null> = { alice: null, bob: null };

const startDesktop = (login: "alice" | "bob") => call<SessionAnswer>(cluster.broker.url, "/v1/sessions", { token: tokens[login], body: { profileId: PROFILE } });
/** A fresh single-use ticket for the user's session (every connect needs one). */
const resumeDesktop = (login: "alice" | "bob") =>
  callOk<SessionAnswer>(cluster.broker.url, `/v1/sessions/${sessionOf(login).sessionId}/resume`, { token: tokens[login], body: { profileId: PROFILE } }, [200]);
const sessionOf = (login: "alice" | "bob") => started[login] ?? (() => { throw new Error(`${login} has no session`); })();

/** Shows `answer`'s desktop in a new tab and checks it is `rgb` all over (grid of pixels, then the whole screenshot). */
async function showDesktop(answer: SessionAnswer, name: string, rgb: number): Promise<Page> {
  const { page, status } = await openRelayed(browser, server, answer, name);
  expect(status.state, JSON.stringify(status)).toBe("connected");
  const check = await waitForPicture(page, solidPicture(rgb), { timeoutMs: 20_000 });
  expect(check.mismatches, `${name}: the canvas is not #${rgb.toString(16)}`).toEqual([]);
  expect({ width: check.width, height: check.height }).toEqual({ width: 640, height: 480 });
  return page;
}

/** A solid `rgb` image the size of the viewport, for a whole-screenshot comparison. */
async function solidImage(rgb: number, file: string): Promise<string> {
  await execFileAsync("convert", ["-size", "640x480", `xc:#${rgb.toString(16).padStart(6, "0")}`, file]);
  return file;
}

beforeAll(() =>
  suite.guard("setup", async () => {
    cluster = await startLaunchCluster({ dir: suite.dir });
    suite.defer(() => cluster.stop());
    // Desktops outlive the agent: end any this suite leaves behind, by the pids their sockets name.
    suite.defer(async () => {
      for (const login of ["alice", "bob"] as const) {
        const session = started[login];
        const pid = session ? await xvncPidOf(login, session.sessionId) : null;
        if (pid !== null) process.kill(pid, "SIGTERM");
      }
    });
    server = await serveNoVnc();
    suite.defer(() => server.close());
    browser = await launchChromium({ logDir: suite.dir });
    suite.defer(() => browser.close());
    tokens.alice = await cluster.addUser("alice");
    tokens.bob = await cluster.addUser("bob");
    await cluster.addProfile(PROFILE, { name: "xvnc", params: { session: [SOLID_DESKTOP], geometry: DESKTOP_GEOMETRY, depth: 24 } });
  }),
);

describe("xvnc sessions through the broker: each user's own desktop", () => {
  it("starts alice's and bob's desktops on the one node (201 running, a relay), each Xvnc as its user, the agent as edge-agent", async () => {
    for (const login of ["alice", "bob"] as const) {
      const answer = await startDesktop(login);
      expect(answer.status, answer.text).toBe(201);
      expect(answer.body).toMatchObject({ serverId: cluster.agent.serverId, state: "running", resumed: false, relay: { protocol: expect.stringMatching(/^broker-ticket\./) } });
      started[login] = answer.body;
      // No pending reservation first: the list shows the launched session at once.
      const listed = await listMySessions(cluster.broker.url, tokens[login]);
      expect(listed).toEqual([expect.objectContaining({ id: answer.body.sessionId, user: login, profileId: PROFILE, display: expect.stringMatching(/^:\d+$/) })]);
      const pid = await xvncPidOf(login, answer.body.sessionId);
      expect(pid, `${login}'s Xvnc`).not.toBeNull();
      expect((await execFileAsync("ps", ["-o", "user=", "-p", String(pid)])).stdout.trim()).toBe(login);
    }
    expect(sessionOf("alice").sessionId).not.toBe(sessionOf("bob").sessionId);
    expect((await execFileAsync("ps", ["-o", "user=", "-p", String(cluster.agent.pid)])).stdout.trim()).toBe(AGENT_USER);
  });

  it("shows each user their own desktop in Chromium's noVNC: alice's red, bob's blue", async () => {
    for (const login of ["alice", "bob"] as const) {
      const page = await showDesktop(sessionOf(login), `${login}-first`, DESKTOP_COLOURS[login]);
      const shot = await saveScreenshot(page, join(RESULTS_DIR, `sessions-xvnc-${login}.png`));
      expect(await differingPixels(shot, await solidImage(DESKTOP_COLOURS[login], join(suite.dir, `${login}-expected.png`)))).toBe(0);
      expect((await noVncStatus(page)).desktopName).toBe(login);
      await page.close();
    }
  });

  it("refuses alice at bob's session: the gateway (403 for her assertion) and the broker (404 for her resume)", async () => {
    const bob = sessionOf("bob");
    const upgrade = await connect(cluster.gatewayUrl, await nodeAssertion(cluster.agent, "alice", bob.sessionId), ["binary"]);
    expect(upgrade.ok ? 101 : upgrade.status).toBe(403);
    const resume = await call(cluster.broker.url, `/v1/sessions/${bob.sessionId}/resume`, { token: tokens.alice, body: { profileId: PROFILE } });
    expect(resume.status).toBe(404);
    // bob's own assertion for it is admitted, so the refusal is about who, not what.
    const own = await connect(cluster.gatewayUrl, await nodeAssertion(cluster.agent, "bob", bob.sessionId), ["binary"]);
    expect(own.ok).toBe(true);
    if (own.ok) own.ws.close();
  });
});

describe("xvnc sessions: resume after the tab closes, and terminate", () => {
  it("resumes alice's desktop after she closes her tab: same session, same display, her marker still there", async () => {
    const alice = sessionOf("alice");
    const displayBefore = (await listMySessions(cluster.broker.url, tokens.alice))[0]?.display;
    const pidBefore = await xvncPidOf("alice", alice.sessionId);
    const page = await showDesktop(await resumeDesktop("alice"), "alice-marker", DESKTOP_COLOURS.alice);
    await typeIntoDesktop(page, MARKER_COMMAND);
    const marked = await waitForPicture(page, solidPicture(MARKER_RGB), { timeoutMs: 10_000 });
    expect(marked.mismatches, "the marker did not recolour alice's desktop").toEqual([]);
    await page.close();
    await waitFor(async () => (await listMySessions(cluster.broker.url, tokens.alice))[0]?.state === "suspended", 5_000, "alice's session suspended");

    const again = await startDesktop("alice");
    expect(again.status, again.text).toBe(201);
    expect(again.body).toMatchObject({ sessionId: alice.sessionId, resumed: true, state: "running" });
    expect((await listMySessions(cluster.broker.url, tokens.alice)).map((session) => [session.id, session.display])).toEqual([[alice.sessionId, displayBefore]]);
    expect(await xvncPidOf("alice", alice.sessionId)).toBe(pidBefore);
    const resumed = await showDesktop(again.body, "alice-resumed", MARKER_RGB);
    await saveScreenshot(resumed, join(RESULTS_DIR, "sessions-xvnc-alice-resumed.png"));
    await resumed.close();
  });

  it("DELETE /v1/sessions/:id ends alice's desktop: Xvnc gone, the live connection closed with the reason, the list without it within a heartbeat", async () => {
    const alice = sessionOf("alice");
    const pid = await xvncPidOf("alice", alice.sessionId);
    expect(pid).not.toBeNull();
    const page = await showDesktop(await resumeDesktop("alice"), "alice-terminated", MARKER_RGB);

    const deleted = await call(cluster.broker.url, `/v1/sessions/${alice.sessionId}`, { method: "DELETE", token: tokens.alice });
    const deletedAt = Date.now();
    expect(deleted.status, deleted.text).toBe(204);
    await page.waitForFunction(() => (globalThis as unknown as { e2e: { closeCode: number | null } }).e2e.closeCode !== null, undefined, { timeout: 5_000, polling: 20 });
    expect(await noVncStatus(page)).toMatchObject({ state: "disconnected", closeCode: 4000, closeReason: "session ended by its user" });
    await page.close();
    await waitFor(async () => !(await listMySessions(cluster.broker.url, tokens.alice)).some((session) => session.id === alice.sessionId), cluster.intervalMs, "alice's session to leave the list within one heartbeat", 20);
    console.log(`terminate: alice's session left GET /v1/sessions ${Date.now() - deletedAt} ms after the 204 (heartbeat ${cluster.intervalMs} ms)`);
    await waitFor(async () => (await xvncPidOf("alice", alice.sessionId)) === null, 5_000, "alice's Xvnc to exit");
    // bob's desktop is untouched.
    expect(await xvncPidOf("bob", sessionOf("bob").sessionId)).not.toBeNull();
    expect((await listMySessions(cluster.broker.url, tokens.bob)).map((session) => session.id)).toEqual([sessionOf("bob").sessionId]);
    expect((await call(cluster.broker.url, `/v1/sessions/${sessionOf("bob").sessionId}`, { method: "DELETE", token: tokens.bob })).status).toBe(204);
  });
});
