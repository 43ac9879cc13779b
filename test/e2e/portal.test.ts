/**
 * The user's portal in real Chromium: the local broker (test/harness) with a real agent whose
 * origin is a real desktop (Xvfb + x11vnc + websockify) behind a TCP switch the test can cut.
 * A broker-managed user signs in at `/`, starts a desktop, and the portal's noVNC (bundled from
 * @novnc/novnc, served as a static asset) shows the desktop's pixels through `/v1/relay`; the
 * network to the desktop drops and the page reconnects by itself with a fresh ticket, to the
 * same session; the tab is closed and the session resumed from the home page; terminate answers
 * on the page. Page and desktop open times go to test-results/e2e/portal-timings.json, and
 * screenshots next to it. Needs `npm run test:e2e:setup`.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall } from "../harness/client.ts";
import { freePort } from "../harness/ports.ts";
import { waitFor } from "../harness/wait.ts";
import { TcpSwitch } from "../integration/tcp-switch.ts";
import { type Chromium, launchChromium, saveScreenshot, waitForPicture } from "./browser.ts";
import { type E2eCluster, startCluster } from "./cluster.ts";
import { type Desktop, startDesktop } from "./desktop.ts";
import { e2eSuite, RESULTS_DIR } from "./suite.ts";
import type { DesktopInfo } from "./portal-users.ts";

const suite = e2eSuite("e2e-portal");
const USER = { login: "portal-user", password: "portal-password-123" };
const PROFILE = { id: "browser-desk", name: "Browser desktop", pool: "default", mode: "relay", maxSessionsPerUser: 100 };
/** What the node reports once the new session is connected (an X2Go-like name of its own). */
const NODE_SESSION_ID = "portal-node-portal-user-1";

let desktop: Desktop;
let tcp: TcpSwitch;
let cluster: E2eCluster;
let browser: Chromium;
let page: Page | undefined;
const timings: Record<string, number> = {};

const desktopInfo = (target: Page) => target.evaluate(() => (globalThis as unknown as { portalDesktop: DesktopInfo }).portalDesktop);

async function waitForState(target: Page, state: string, timeoutMs = 20_000): Promise<DesktopInfo> {
  await target.waitForFunction((wanted) => (globalThis as unknown as { portalDesktop?: DesktopInfo }).portalDesktop?.state === wanted, state, { timeout: timeoutMs, polling: 50 });
  return desktopInfo(target);
}

/** What the node's session source prints: the test plays the node's session bookkeeping. */
function reportSessions(sessions: unknown[]): void {
  const agent = cluster.agents[0];
  if (!agent) throw new Error("no agent");
  writeFileSync(join(dirname(agent.configPath), "sessions.json"), JSON.stringify({ sessions }));
}

function requirePage(): Page {
  if (!page) throw new Error("no page: an earlier test in this file failed");
  return page;
}

beforeAll(() =>
  suite.guard("setup", async () => {
    desktop = await startDesktop({ logDir: suite.dir, variant: 0, name: "portal-desk" });
    suite.defer(() => desktop.stop());
    tcp = new TcpSwitch(await freePort(), desktop.websockifyPort);
    await tcp.restore();
    suite.defer(() => tcp.cut());
    cluster = await startCluster({ dir: suite.dir, nodes: [{ hostname: "portal-node", originUrl: `http://127.0.0.1:${tcp.port}/websockify` }] });
    suite.defer(() => cluster.stop());
    await adminCall(cluster.broker, "/v1/admin/users", "POST", USER);
    await adminCall(cluster.broker, "/v1/admin/profiles", "POST", PROFILE);
    browser = await launchChromium({ logDir: suite.dir, viewport: { width: 1024, height: 720 } });
    suite.defer(() => browser.close());
  }),
);

describe("the portal in Chromium", () => {
  it("signs in at / with a broker account and shows the profiles, fast", async () => {
    page = await browser.newPage("portal");
    await page.goto(`${cluster.broker.url}/`);
    await page.getByLabel("Login").fill(USER.login);
    await page.getByLabel("Password").fill(USER.password);
    await Promise.all([page.waitForURL(`${cluster.broker.url}/`), page.getByRole("button", { name: "Sign in" }).click()]);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("My desktops");
    expect(await page.getByRole("link", { name: "Admin dashboard" }).count()).toBe(0);
    // A fresh load of the start page, timed by the browser.
    await page.reload({ waitUntil: "load" });
    const navigation = await page.evaluate(() => {
      const [entry] = performance.getEntriesByType("navigation") as unknown as Array<{ startTime: number; responseEnd: number; loadEventEnd: number }>;
      return entry ? { response: entry.responseEnd - entry.startTime, load: entry.loadEventEnd - entry.startTime } : null;
    });
    expect(navigation).not.toBeNull();
    timings["startPageResponseMs"] = Math.round(navigation?.response ?? -1);
    timings["startPageLoadMs"] = Math.round(navigation?.load ?? -1);
    expect(timings["startPageLoadMs"]).toBeLessThan(1000);
  });

  it("starts a desktop: noVNC in the page shows the desktop's pixels through the relay", async () => {
    const current = requirePage();
    const started = Date.now();
    await current.getByRole("link", { name: `Start ${PROFILE.name}` }).click();
    const info = await waitForState(current, "connected");
    timings["desktopConnectedMs"] = Date.now() - started;
    expect(info).toMatchObject({ connects: 1, tickets: 1, serverId: cluster.agents[0]?.serverId });
    expect(info.sessionId).toMatch(/^rsv_/);
    const check = await waitForPicture(current, desktop.knownPixels, { tolerance: 2, timeoutMs: 20_000 });
    timings["desktopPictureMs"] = Date.now() - started;
    await saveScreenshot(current, join(RESULTS_DIR, "portal-desktop.png"));
    expect(check.mismatches).toEqual([]);
    expect(timings["desktopPictureMs"]).toBeLessThan(3000);
    // The node now reports the session under its own name, as X2Go or a launcher would.
    reportSessions([{ id: NODE_SESSION_ID, user: USER.login, state: "running", startedAt: Date.now() }]);
    await waitFor(async () => (await current.evaluate(async () => (await (await fetch("/portal/api/state")).json()) as { sessions: Array<{ id: string }> })).sessions.length === 1, 15_000, "the session listed", 200);
  });

  it("reconnects by itself after the network to the desktop drops, with a fresh ticket, to the same session", async () => {
    const current = requirePage();
    await tcp.cut();
    await waitForState(current, "reconnecting", 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await tcp.restore();
    const info = await waitForState(current, "connected", 30_000);
    expect(info.connects).toBe(2);
    expect(info.tickets).toBeGreaterThanOrEqual(2);
    // It followed the node's name for the new session; it started nothing new.
    expect(info.sessionId).toBe(NODE_SESSION_ID);
    expect(new URL(current.url()).searchParams.get("session")).toBe(NODE_SESSION_ID);
    expect((await waitForPicture(current, desktop.knownPixels, { tolerance: 2 })).mismatches).toEqual([]);
    const servers = (await adminCall(cluster.broker, "/v1/admin/pools/default/servers", "GET")) as { servers: Array<{ status: string }> };
    expect(servers.servers.map((server) => server.status)).toEqual(["up"]);
  });

  it("resumes the session from the home page after the tab was closed", async () => {
    await requirePage().close();
    reportSessions([{ id: NODE_SESSION_ID, user: USER.login, state: "suspended", startedAt: Date.now() - 60_000 }]);
    page = await browser.newPage("portal-resume");
    await page.goto(`${cluster.broker.url}/`);
    const row = page.locator(`tr[data-session-id="${NODE_SESSION_ID}"]`);
    // The page polls every 3 s: the row turns suspended once the node's next beat says so.
    await waitFor(async () => (await row.getAttribute("data-state")) === "suspended", 15_000, "the session shown suspended", 250);
    await saveScreenshot(page, join(RESULTS_DIR, "portal-home.png"));
    const started = Date.now();
    await row.getByRole("link", { name: /Resume/ }).click();
    const info = await waitForState(page, "connected");
    timings["resumeConnectedMs"] = Date.now() - started;
    expect(info).toMatchObject({ sessionId: NODE_SESSION_ID, connects: 1 });
    expect((await waitForPicture(page, desktop.knownPixels, { tolerance: 2 })).mismatches).toEqual([]);
  });

  it("terminates from the home page: the answer is shown on the page", async () => {
    const current = requirePage();
    await current.goto(`${cluster.broker.url}/`);
    current.once("dialog", (dialog) => void dialog.accept());
    await current.locator(`tr[data-session-id="${NODE_SESSION_ID}"]`).getByRole("button", { name: /Terminate/ }).click();
    await current.waitForLoadState("load");
    await saveScreenshot(current, join(RESULTS_DIR, "portal-terminate.png"));
    // Terminated (the notice), or the node's refusal (409) as an alert on the page: never a bare error.
    const notice = await current.getByRole("status").filter({ hasText: "The session was terminated." }).count();
    const alert = await current.getByRole("alert").count();
    expect(notice + alert).toBe(1);
  });

  it("writes the timings", () => {
    writeFileSync(join(RESULTS_DIR, "portal-timings.json"), `${JSON.stringify(timings, null, 2)}\n`);
    console.log(`portal timings (ms): ${JSON.stringify(timings)}`);
  });
});
