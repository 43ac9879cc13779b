/**
 * Several portal users in real Chromium at once, for portal-queue.test.ts: one headless Debian
 * Chromium (never a downloaded one), a browser context per user (their own cookie), signed in at
 * `/` with the form. Every desktop page records what its status line showed and when (the
 * browser's clock, which is this machine's): a MutationObserver installed before the page's own
 * script runs, on `window.e2eStatus`, so a test can tell a live update from a reload.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from "./browser.ts";

/** The desktop page's `window.portalDesktop` (src/portal/browser/desktop.ts). */
export interface DesktopInfo {
  state: string;
  sessionId: string | null;
  serverId: string | null;
  connects: number;
  tickets: number;
  lastError: string | null;
}

/** One status line the page showed: `data-state` and the text, at epoch ms. */
export interface StatusEntry {
  at: number;
  state: string;
  text: string;
}

/** Runs in the page before its scripts (a string: test/tsconfig.json has no DOM lib). */
const STATUS_RECORDER = `(() => {
  const log = [];
  window.e2eStatus = log;
  window.e2eLoadedAt = Date.now();
  const watch = () => {
    const root = document.getElementById("desktop");
    const line = root && root.querySelector("[data-status]");
    if (!root || !line) return;
    const record = () => {
      const entry = { at: Date.now(), state: root.dataset.state || "", text: (line.textContent || "").trim() };
      const last = log[log.length - 1];
      if (!last || last.state !== entry.state || last.text !== entry.text) log.push(entry);
    };
    record();
    new MutationObserver(record).observe(root, { attributes: true, attributeFilter: ["data-state"], childList: true, characterData: true, subtree: true });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();`;

export interface PortalUser {
  login: string;
  context: BrowserContext;
  /** The page signed in with; `newPage` opens another in the same context (same cookie). */
  page: Page;
  newPage(name: string): Promise<Page>;
}

export interface PortalBrowser {
  browser: Browser;
  signIn(login: string, password: string): Promise<PortalUser>;
  close(): Promise<void>;
}

function logPage(page: Page, file: string): Page {
  const write = (line: string) => writeFileSync(file, `${new Date().toISOString()} ${line}\n`, { flag: "a" });
  page.on("console", (message) => write(`console.${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => write(`pageerror: ${error.stack ?? error.message}`));
  page.on("requestfailed", (request) => write(`requestfailed: ${request.url()} ${request.failure()?.errorText ?? ""}`));
  page.on("websocket", (socket) => write(`websocket open: ${socket.url().replace(/ticket=[^&]+/, "ticket=…")}`));
  return page;
}

/** Chromium for `brokerUrl`'s portal; pages log to `<logDir>/browser-<login>-<name>.log`. */
export async function launchPortalBrowser(brokerUrl: string, logDir: string): Promise<PortalBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS, timeout: 60_000 });
  return {
    browser,
    async signIn(login, password) {
      const context = await browser.newContext({ viewport: { width: 1024, height: 720 } });
      await context.addInitScript({ content: STATUS_RECORDER });
      const newPage = async (name: string) => logPage(await context.newPage(), join(logDir, `browser-${login}-${name}.log`));
      const page = await newPage("sign-in");
      await page.goto(`${brokerUrl}/`);
      await page.getByLabel("Login").fill(login);
      await page.getByLabel("Password").fill(password);
      await Promise.all([page.waitForURL(`${brokerUrl}/`), page.getByRole("button", { name: "Sign in" }).click()]);
      const heading = await page.getByRole("heading", { level: 1 }).textContent();
      if (heading !== "My desktops") throw new Error(`${login}: signed in to ${JSON.stringify(heading)}, not "My desktops"`);
      return { login, context, page, newPage };
    },
    close: () => browser.close(),
  };
}

/** Clicks the home page's Start for `profileName` (the desktop page opens in the same tab). */
export async function startFromHome(page: Page, brokerUrl: string, profileName: string): Promise<void> {
  if (new URL(page.url()).pathname !== "/") await page.goto(`${brokerUrl}/`);
  await Promise.all([page.waitForURL(/\/portal\/desktop\?/), page.getByRole("link", { name: `Start ${profileName}` }).click()]);
}

export const desktopInfo = (page: Page) => page.evaluate(() => (globalThis as unknown as { portalDesktop: DesktopInfo }).portalDesktop);

export async function waitForState(page: Page, state: string, timeoutMs = 20_000): Promise<DesktopInfo> {
  await page.waitForFunction((wanted) => (globalThis as unknown as { portalDesktop?: DesktopInfo }).portalDesktop?.state === wanted, state, { timeout: timeoutMs, polling: 50 });
  return desktopInfo(page);
}

/** Every status line the page showed since it loaded, and when it loaded (a reload starts both afresh). */
export const statusLog = (page: Page) =>
  page.evaluate(() => {
    const page = globalThis as unknown as { e2eStatus?: StatusEntry[]; e2eLoadedAt?: number };
    return { loadedAt: page.e2eLoadedAt ?? 0, entries: page.e2eStatus ?? [] };
  });

/** Waits until the status line matches `text` (in `state`, when given); the entry that first did. */
export async function waitForStatus(page: Page, text: RegExp, options: { state?: string; timeoutMs?: number } = {}): Promise<StatusEntry> {
  const wanted = { source: text.source, flags: text.flags, state: options.state ?? null };
  await page.waitForFunction(
    ({ source, flags, state }) => {
      const log = (globalThis as unknown as { e2eStatus?: StatusEntry[] }).e2eStatus ?? [];
      const last = log[log.length - 1];
      return last !== undefined && new RegExp(source, flags).test(last.text) && (state === null || last.state === state);
    },
    wanted,
    { timeout: options.timeoutMs ?? 20_000, polling: 50 },
  );
  const { entries } = await statusLog(page);
  return entries[entries.length - 1] as StatusEntry;
}
