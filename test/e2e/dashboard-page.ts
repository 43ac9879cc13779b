/**
 * Page helpers for the dashboard e2e suite: sign in through the form, find a server's row by
 * hostname, wait for a row's live status, and save full-page screenshots under test-results/e2e/.
 * The callbacks given to `page.evaluate` / `waitForFunction` run in the browser; test/tsconfig.json
 * has no DOM lib, so they type the page's globals structurally.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { RESULTS_DIR } from "./suite.ts";

/** `test-results/e2e/dashboard-<name>.png` */
export function screenshotPath(name: string): string {
  return join(RESULTS_DIR, `dashboard-${name}.png`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const file = screenshotPath(name);
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Opens `/admin`, lands on the sign-in form, signs in with the admin token, waits for the servers page. */
export async function signInWithToken(page: Page, brokerUrl: string, adminToken: string): Promise<void> {
  await page.goto(`${brokerUrl}/admin`);
  await page.waitForURL(`${brokerUrl}/admin/login`);
  await page.getByLabel("Admin token", { exact: true }).fill(adminToken);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(`${brokerUrl}/admin/servers`);
}

/** The row of `hostname` in the servers table. */
export function serverRow(page: Page, hostname: string): Locator {
  return page.locator("tr[data-server-id]", { has: page.locator(`th [data-field="hostname"]`, { hasText: hostname }) });
}

interface PageGlobals {
  document: {
    querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null; querySelector(selector: string): { textContent: string | null } | null }>;
  };
}

/** Waits (polling in the page, no reload) until `hostname`'s row shows `status`. */
export async function waitForStatus(page: Page, hostname: string, status: string, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    ([host, wanted]) => {
      const rows = Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll("tr[data-server-id]"));
      return rows.some((row) => row.querySelector('th [data-field="hostname"]')?.textContent === host && row.getAttribute("data-status") === wanted);
    },
    [hostname, status] as const,
    { timeout: timeoutMs, polling: 100 },
  );
}

/** The `data-status` of every server row, by hostname. */
export async function statuses(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const result: Record<string, string> = {};
    for (const row of Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll("tr[data-server-id]"))) {
      const host = row.querySelector('th [data-field="hostname"]')?.textContent;
      if (host) result[host] = row.getAttribute("data-status") ?? "";
    }
    return result;
  });
}
