/**
 * The admin dashboard in headless Chromium against the local broker (test/harness) with three
 * real demo agents (pool interval 1 s): sign in with the admin token (the Secure session cookie
 * is kept on http://127.0.0.1), see the three servers up, drain one through the confirmation,
 * stop an agent and watch its row turn down without a reload (and a new server appear, a removed
 * one vanish), save a policy with a script syntax
 * error and see the error, dry-run a policy and see the trace, sign out. Screenshots are kept as
 * test-results/e2e/dashboard-*.png. Needs Chromium (`npm run test:e2e:setup`).
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { enrolAgent } from "../harness/agents.ts";
import { adminCall } from "../harness/client.ts";
import { type Chromium, launchChromium } from "./browser.ts";
import { type E2eCluster, startCluster } from "./cluster.ts";
import { screenshot, serverRow, signInWithToken, statuses, waitForStatus } from "./dashboard-page.ts";
import { e2eSuite } from "./suite.ts";
import type { Page } from "playwright-core";

const suite = e2eSuite("e2e-dashboard");
const HOSTS = ["demo-1", "demo-2", "demo-3"];
/** 3 missed beats of 1 s, the alarm, and one 2 s poll: well within this. */
const DOWN_WITHIN_MS = 12_000;

let cluster: E2eCluster;
let browser: Chromium;
let page: Page;
let base: string;
/** Main-frame navigations seen by the page: a live update must not add any. */
let navigations = 0;

beforeAll(() =>
  suite.guard("setup", async () => {
    cluster = await startCluster({
      dir: suite.dir,
      intervalMs: 1000,
      nodes: HOSTS.map((hostname, index) => ({
        hostname,
        originUrl: `http://127.0.0.1:9/${hostname}`,
        staticData: { site: index === 0 ? "north" : "south", gpu: index === 2 },
      })),
    });
    suite.defer(() => cluster.stop());
    base = cluster.broker.url;
    browser = await launchChromium({ logDir: suite.dir, viewport: { width: 1400, height: 900 } });
    suite.defer(() => browser.close());
    page = await browser.newPage("dashboard");
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
  }),
);

describe("the admin dashboard in Chromium", () => {
  it("signs in with the admin token; the session cookie is HttpOnly, Secure, SameSite=Strict and kept on http://127.0.0.1", async () => {
    await signInWithToken(page, base, cluster.broker.adminToken);
    const cookies = await browser.context.cookies(`${base}/admin`);
    const session = cookies.find((cookie) => cookie.name === "broker_admin");
    expect(session, JSON.stringify(cookies)).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/admin" });
    expect(await page.content()).not.toContain(cluster.broker.adminToken);
  });

  it("shows the three demo servers up", async () => {
    for (const host of HOSTS) await waitForStatus(page, host, "up", 10_000);
    expect(await statuses(page)).toEqual({ "demo-1": "up", "demo-2": "up", "demo-3": "up" });
    await expect(serverRow(page, "demo-3").locator('[data-field="staticData"]').textContent()).resolves.toContain("gpu=true");
    await expect(serverRow(page, "demo-1").locator('[data-field="cpus"]').textContent()).resolves.toMatch(/^[1-9]\d*$/);
    await screenshot(page, "servers");
  });

  it("drains a server after confirming, and its status changes", async () => {
    await serverRow(page, "demo-2").getByRole("button", { name: "Drain demo-2" }).click();
    await page.getByRole("heading", { name: "Drain demo-2?" }).waitFor();
    await screenshot(page, "confirm-drain");
    await page.getByRole("button", { name: "Drain demo-2" }).click();
    await page.waitForURL(`${base}/admin/servers?notice=drained`);
    await waitForStatus(page, "demo-2", "draining", 5_000);
    await expect(serverRow(page, "demo-2").getByRole("button", { name: "Undrain demo-2" }).isVisible()).resolves.toBe(true);
    await screenshot(page, "drained");
  });

  it("shows a stopped agent go down without reloading the page", async () => {
    const before = navigations;
    await page.evaluate(() => ((globalThis as unknown as { e2eMarker?: string }).e2eMarker = "same page"));
    const stoppedAt = Date.now();
    await cluster.agents[2]?.stop("SIGKILL");
    await waitForStatus(page, "demo-3", "down", DOWN_WITHIN_MS);
    const elapsedMs = Date.now() - stoppedAt;
    expect(navigations, "the page navigated").toBe(before);
    expect(await page.evaluate(() => (globalThis as unknown as { e2eMarker?: string }).e2eMarker)).toBe("same page");
    expect(await statuses(page)).toEqual({ "demo-1": "up", "demo-2": "draining", "demo-3": "down" });
    await expect(page.locator("[data-live-announce]").textContent()).resolves.toContain("demo-3 is now down");
    console.log(`demo-3 shown down ${elapsedMs} ms after its agent was killed`);
    await screenshot(page, "down-live");
  });

  it("shows a newly enrolled server appear, and a removed one vanish, without reloading", async () => {
    const before = navigations;
    const agent = await enrolAgent(cluster.broker, {
      hostname: "demo-4",
      dir: join(suite.dir, "agent-demo-4"),
      staticData: { site: "west" },
      originUrl: "http://127.0.0.1:9/demo-4",
      logFile: join(suite.dir, "agent-demo-4.log"),
    });
    suite.defer(() => agent.stop());
    agent.start();
    await waitForStatus(page, "demo-4", "up", 15_000);
    await expect(serverRow(page, "demo-4").getByRole("button", { name: "Drain demo-4" }).isVisible()).resolves.toBe(true);
    await screenshot(page, "new-server-live");
    await agent.stop();
    await adminCall(cluster.broker, `/v1/admin/pools/default/servers/${agent.serverId}`, "DELETE");
    await serverRow(page, "demo-4").waitFor({ state: "detached", timeout: 10_000 });
    expect(navigations, "the page navigated").toBe(before);
  });

  it("shows the error when a policy with a script syntax error is saved", async () => {
    await page.getByRole("link", { name: "Pools and policies" }).click();
    await page.getByRole("link", { name: "Edit policy and dry-run" }).click();
    await page.waitForURL(`${base}/admin/pools/default`);
    const broken = JSON.stringify({ steps: [{ script: "function (input) {\n  return input.servers[0.serverId;\n}", name: "broken" }] }, null, 2);
    await page.getByLabel("Policy JSON (empty: the default chain)").fill(broken);
    await page.getByRole("button", { name: "Validate and save" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^step 1 \(broken\): .+ \(line 2, column \d+\)$/);
    expect(await page.getByLabel("Policy JSON (empty: the default chain)").inputValue()).toBe(broken);
    await screenshot(page, "policy-error");
  });

  it("dry-runs a policy for a user and request data and shows the chosen server and the trace", async () => {
    const policy = JSON.stringify({ steps: [{ use: "require" }, { use: "least-loaded" }] }, null, 2);
    await page.getByLabel("Policy JSON (empty: the default chain)").fill(policy);
    await page.getByLabel("User login").fill("alice");
    await page.getByLabel("Request data (JSON object)").fill('{ "require": { "site": "north" } }');
    await page.getByRole("button", { name: "Dry-run this policy" }).click();
    await page.waitForURL(`${base}/admin/pools/default/dry-run`);
    const result = page.locator("[data-dry-run]");
    await result.waitFor();
    await expect(result.locator("[data-chosen]").textContent()).resolves.toBe("demo-1");
    const steps = await result.locator("table.trace tbody th[scope=row]").allTextContents();
    expect(steps).toEqual(["require", "least-loaded"]);
    await expect(result.locator("table.trace tbody tr").first().textContent()).resolves.toContain("kept demo-1");
    await screenshot(page, "dry-run");
  });

  it("signs out: the cookie is gone and the dashboard asks to sign in again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${base}/admin/login?notice=signed-out`);
    expect((await browser.context.cookies(`${base}/admin`)).some((cookie) => cookie.name === "broker_admin")).toBe(false);
    await expect(page.getByRole("status").textContent()).resolves.toBe("You are signed out.");
    await screenshot(page, "signed-out");
    await page.goto(`${base}/admin/servers`);
    await page.waitForURL(`${base}/admin/login`);
  });
});
