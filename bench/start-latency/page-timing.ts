/**
 * When a desktop shows in the browser: the e2e noVNC test page (Debian's noVNC in headless
 * Chromium) with a probe installed before the page's own script, which polls every few ms and
 * stamps (Date.now(), the same clock as the bench) the moment noVNC's RFB object exists, it is connected, the first
 * framebuffer update reaches the visible canvas (its centre pixel stops being transparent) and
 * the desktop's own picture (the session's colour at the centre) is shown.
 */
import type { Page } from "playwright-core";
import type { Chromium, NoVncServer } from "../../test/e2e/browser.ts";

export interface PageTimes {
  /** Epoch ms when the page's first script ran (the probe, before noVNC's). */
  openedAt: number;
  /** noVNC's modules loaded and its RFB object made (it opens the WebSocket now). */
  connectingAt: number;
  connectedAt: number;
  firstFrameAt: number;
  pictureAt: number;
}

/** How often the probe looks: well under a frame, and cheap (one pixel per look). */
const PROBE_EVERY_MS = 4;

/** Runs in the page before its scripts: `window.startTimes` fills in as the desktop appears. */
function probe({ rgb, everyMs }: { rgb: number; everyMs: number }): void {
  interface Canvas {
    width: number;
    getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
  }
  const page = globalThis as unknown as { e2e?: { state: string }; rfb?: { _canvas?: Canvas }; startTimes: Record<string, number> };
  const times: Record<string, number> = { openedAt: Date.now(), connectingAt: 0, connectedAt: 0, firstFrameAt: 0, pictureAt: 0 };
  page.startTimes = times;
  const want = [(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff];
  const look = () => {
    const state = page.e2e?.state;
    if (!times["connectingAt"] && (state === "connecting" || state === "connected")) times["connectingAt"] = Date.now();
    if (!times["connectedAt"] && state === "connected") times["connectedAt"] = Date.now();
    const canvas = page.rfb?._canvas;
    const context = canvas && canvas.width > 0 ? canvas.getContext("2d") : null;
    if (context) {
      const pixel = context.getImageData(320, 240, 1, 1).data;
      if (!times["firstFrameAt"] && (pixel[3] ?? 0) > 0) times["firstFrameAt"] = Date.now();
      if (!times["pictureAt"] && want.every((value, index) => Math.abs((pixel[index] ?? -1) - value) <= 2)) times["pictureAt"] = Date.now();
    }
    if (!times["pictureAt"]) setTimeout(look, everyMs);
  };
  setTimeout(look, 0);
}

/** A fresh page with the probe installed, made before the timed start (Playwright's page set-up is not the user's wait). */
export async function probedPage(browser: Chromium, rgb: number): Promise<Page> {
  const page = await browser.newPage();
  await page.addInitScript(probe, { rgb, everyMs: PROBE_EVERY_MS });
  return page;
}

/** Opens noVNC on the relay (the ticket as subprotocol) in the probed page; the stamps once the picture shows. Closes the page. */
export async function timeDesktopInPage(page: Page, server: NoVncServer, relay: { url: string; protocol: string }, timeoutMs: number): Promise<PageTimes> {
  try {
    await page.goto(server.pageUrl(relay.url, [relay.protocol, "binary"]), { waitUntil: "commit" });
    await page.waitForFunction(() => (globalThis as unknown as { startTimes?: { pictureAt: number } }).startTimes?.pictureAt, undefined, { timeout: timeoutMs, polling: 50 });
    return await page.evaluate(() => (globalThis as unknown as { startTimes: PageTimes }).startTimes);
  } finally {
    await page.close();
  }
}
