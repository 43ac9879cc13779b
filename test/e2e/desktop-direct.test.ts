/**
 * Proves the harness with no broker in the path: Debian's noVNC in headless Chromium connects
 * straight to the desktop node's websockify and its canvas shows the known picture.
 * Needs `npm run test:e2e:setup`.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type Chromium, launchChromium, type NoVncServer, noVncStatus, openNoVnc, saveScreenshot, serveNoVnc, waitForPicture } from "./browser.ts";
import { type Desktop, startDesktop } from "./desktop.ts";
import { differingPixels, e2eSuite, RESULTS_DIR } from "./suite.ts";

const suite = e2eSuite("e2e-direct");
const SCREENSHOT = join(RESULTS_DIR, "desktop-direct.png");

let desktop: Desktop;
let server: NoVncServer;
let browser: Chromium;

beforeAll(() =>
  suite.guard("setup", async () => {
    desktop = await startDesktop({ logDir: suite.dir });
    suite.defer(() => desktop.stop());
    server = await serveNoVnc();
    suite.defer(() => server.close());
    browser = await launchChromium({ logDir: suite.dir });
    suite.defer(() => browser.close());
  }),
);

describe("the e2e harness, direct", () => {
  it("noVNC connects to websockify and its canvas shows the known picture", async () => {
    const wsUrl = `ws://127.0.0.1:${desktop.websockifyPort}/websockify`;
    const { page, status } = await openNoVnc(browser, server, wsUrl, { name: "direct" });
    expect(status.state, JSON.stringify(status)).toBe("connected");

    const check = await waitForPicture(page, desktop.knownPixels, { tolerance: 2, timeoutMs: 20_000 });
    await saveScreenshot(page, SCREENSHOT);
    expect({ width: check.width, height: check.height }).toEqual({ width: desktop.width, height: desktop.height });
    expect(check.mismatches, `canvas differs from the known picture (screenshot: ${SCREENSHOT})`).toEqual([]);
    expect(check.maxDelta).toBeLessThanOrEqual(2);

    // The whole rendered page, not only the sampled points, is the picture.
    expect(await differingPixels(SCREENSHOT, desktop.picturePath)).toBe(0);

    const after = await noVncStatus(page);
    expect(after.state).toBe("connected");
    expect(after.sockets).toHaveLength(1);
    expect(after.sockets[0]).toMatchObject({ url: wsUrl, opened: true, protocol: "binary" });
  });
});
