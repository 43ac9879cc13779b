/**
 * Headless Debian Chromium driven by playwright-core (never a downloaded browser), and Debian's
 * own noVNC client (/usr/share/novnc, 1.3: ES modules under core/) served to a test page on
 * loopback. The page (fixtures/novnc-page.html) connects to the WebSocket URL it is given and
 * reports on `window.e2e`; helpers here wait on it and read the noVNC canvas's pixels.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, sep } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type Comparison, compareKnown, type KnownPixel } from "./desktop.ts";

export const CHROMIUM_PATH = process.env["E2E_CHROMIUM"] ?? "/usr/bin/chromium";
/** Flags that work on these machines (closed network, root, no GPU). */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
export const NOVNC_ROOT = process.env["E2E_NOVNC_ROOT"] ?? "/usr/share/novnc";
const PAGE_FILE = join(import.meta.dirname, "fixtures", "novnc-page.html");

export interface Chromium {
  context: BrowserContext;
  userDataDir: string;
  /** A new page; its console and errors are appended to `<logDir>/browser-<name>.log`. */
  newPage(name?: string): Promise<Page>;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh, empty user-data-dir (removed on close). */
export async function launchChromium(options: { logDir?: string; viewport?: { width: number; height: number } } = {}): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} not found: run npm run test:e2e:setup`);
  const userDataDir = mkdtempSync(join(tmpdir(), "e2e-chromium-"));
  const logDir = options.logDir;
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: options.viewport ?? { width: 640, height: 480 },
      timeout: 60_000,
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  let pages = 0;
  return {
    context,
    userDataDir,
    async newPage(name = `page${++pages}`) {
      const page = await context.newPage();
      if (logDir) {
        const logFile = join(logDir, `browser-${name}.log`);
        const write = (line: string) => writeFileSync(logFile, `${new Date().toISOString()} ${line}\n`, { flag: "a" });
        page.on("console", (message) => write(`console.${message.type()}: ${message.text()}`));
        page.on("pageerror", (error) => write(`pageerror: ${error.stack ?? error.message}`));
        page.on("requestfailed", (request) => write(`requestfailed: ${request.url()} ${request.failure()?.errorText ?? ""}`));
        page.on("websocket", (socket) => {
          write(`websocket open: ${socket.url()}`);
          socket.on("close", () => write(`websocket closed: ${socket.url()}`));
          socket.on("socketerror", (error) => write(`websocket error: ${socket.url()} ${error}`));
        });
      }
      return page;
    },
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".json": "application/json",
};

export interface NoVncServer {
  /** `http://127.0.0.1:P` */
  url: string;
  /** The test page connecting to `wsUrl`, offering `protocols` (default: `binary` alone). */
  pageUrl(wsUrl: string, protocols?: string[]): string;
  close(): Promise<void>;
}

/**
 * A static server on 127.0.0.1: `/novnc-page.html` is the test page, `/novnc/…` is Debian's
 * noVNC. Nothing outside those two is served (paths are resolved and checked).
 */
export async function serveNoVnc(root = NOVNC_ROOT): Promise<NoVncServer> {
  if (!existsSync(join(root, "core", "rfb.js"))) throw new Error(`${root}/core/rfb.js not found: run npm run test:e2e:setup`);
  const realRoot = realpathSync(root);
  const server = createServer((request, response) => {
    const send = (status: number, body: string | Buffer, type = "text/plain; charset=utf-8") => {
      response.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
      response.end(body);
    };
    if (request.method !== "GET" && request.method !== "HEAD") return send(405, "method not allowed");
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://127.0.0.1").pathname);
    if (path === "/novnc-page.html" || path === "/") return send(200, readFileSync(PAGE_FILE), MIME[".html"]);
    if (path === "/favicon.ico") return send(204, "");
    if (!path.startsWith("/novnc/")) return send(404, "not found");
    let file: string;
    try {
      file = realpathSync(join(realRoot, path.slice("/novnc/".length)));
    } catch {
      return send(404, "not found");
    }
    if (!(file === realRoot || file.startsWith(realRoot + sep)) || !statSync(file).isFile()) return send(404, "not found");
    return send(200, readFileSync(file), MIME[extname(file)] ?? "application/octet-stream");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("static server has no address");
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    pageUrl: (wsUrl, protocols) => {
      const query = new URLSearchParams({ url: wsUrl });
      for (const protocol of protocols ?? []) query.append("protocol", protocol);
      return `${url}/novnc-page.html?${query}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface NoVncStatus {
  state: "loading" | "connecting" | "connected" | "disconnected" | "error";
  clean: boolean | null;
  reason: string | null;
  closeCode: number | null;
  closeReason: string | null;
  desktopName: string | null;
  events: string[];
  sockets: Array<{ url: string; opened: boolean; protocol: string | null; error: boolean; closeCode: number | null; closeReason: string | null; wasClean: boolean | null }>;
}

/**
 * The page's globals, typed structurally: the callbacks given to `page.evaluate` run in the
 * browser, but test/tsconfig.json has no DOM lib.
 */
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
interface PageGlobals {
  e2e?: NoVncStatus;
  rfb?: { _canvas?: PageCanvas };
  document: { querySelector(selector: string): PageCanvas | null };
}

export function noVncStatus(page: Page): Promise<NoVncStatus> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).e2e as NoVncStatus);
}

/**
 * Opens the test page on `wsUrl` (noVNC offering `protocols`, default `binary` alone) and waits
 * until noVNC is connected or has given up; returns the page and the status then (the caller
 * asserts on it).
 */
export async function openNoVnc(
  browser: Chromium,
  server: NoVncServer,
  wsUrl: string,
  options: { name?: string; timeoutMs?: number; protocols?: string[] } = {},
): Promise<{ page: Page; status: NoVncStatus }> {
  const page = await browser.newPage(options.name);
  await page.goto(server.pageUrl(wsUrl, options.protocols), { waitUntil: "load" });
  await page.waitForFunction(
    () => {
      const state = (globalThis as unknown as PageGlobals).e2e?.state;
      return state === "connected" || state === "disconnected" || state === "error";
    },
    undefined,
    { timeout: options.timeoutMs ?? 30_000, polling: 100 },
  );
  return { page, status: await noVncStatus(page) };
}

/** The noVNC canvas's size and the colours at `points` (null outside the canvas). */
export async function readCanvasPoints(page: Page, points: Array<{ x: number; y: number }>): Promise<{ width: number; height: number; colours: Array<[number, number, number] | null> }> {
  return page.evaluate((wanted) => {
    const page = globalThis as unknown as PageGlobals;
    // noVNC 1.3 keeps its canvas as rfb._canvas; the selector is the fallback.
    const canvas = page.rfb?._canvas ?? page.document.querySelector("#screen canvas");
    if (!canvas) return { width: 0, height: 0, colours: wanted.map(() => null) };
    const context = canvas.getContext("2d");
    if (!context || canvas.width === 0 || canvas.height === 0) return { width: canvas.width, height: canvas.height, colours: wanted.map(() => null) };
    const image = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = wanted.map(({ x, y }) => {
      if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) return null;
      const offset = (y * canvas.width + x) * 4;
      return [image[offset] ?? 0, image[offset + 1] ?? 0, image[offset + 2] ?? 0] as [number, number, number];
    });
    return { width: canvas.width, height: canvas.height, colours };
  }, points);
}

export interface CanvasCheck extends Comparison {
  width: number;
  height: number;
}

/** Compares the noVNC canvas with the known pixels once. */
export async function checkCanvas(page: Page, known: KnownPixel[], tolerance: number): Promise<CanvasCheck> {
  const { width, height, colours } = await readCanvasPoints(page, known);
  const byPoint = new Map(known.map((point, index) => [`${point.x},${point.y}`, colours[index] ?? null]));
  return { width, height, ...compareKnown(known, (x, y) => byPoint.get(`${x},${y}`) ?? null, tolerance) };
}

/**
 * Polls the canvas until it shows the known picture (every point within `tolerance` per
 * channel) or `timeoutMs` passes; returns the last comparison either way.
 */
export async function waitForPicture(page: Page, known: KnownPixel[], options: { tolerance?: number; timeoutMs?: number } = {}): Promise<CanvasCheck> {
  const tolerance = options.tolerance ?? 0;
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last = await checkCanvas(page, known, tolerance);
  while (last.mismatches.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    last = await checkCanvas(page, known, tolerance);
  }
  return last;
}

/** Saves a screenshot of the page (the 640 × 480 viewport is the noVNC canvas) under test-results/e2e/. */
export async function saveScreenshot(page: Page, file: string): Promise<string> {
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file });
  return file;
}
