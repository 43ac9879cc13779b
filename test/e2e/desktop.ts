/**
 * A real desktop node on loopback: Xvfb with a known picture on its root window, x11vnc serving
 * it over RFB (`startVncDesktop`), and for `startDesktop` websockify in front as the node's
 * desktop endpoint (what the agent's `originUrl` points at); a node whose agent runs the gateway
 * needs no websockify. Needs `npm run test:e2e:setup` (Debian: xvfb, x11vnc, websockify,
 * imagemagick).
 *
 * The known picture is a 4 × 4 grid of solid colours (160 × 120 cells on a 640 × 480 screen),
 * none of them black, so a blank canvas never matches. `variant` rotates the palette so that two
 * desktops differ in every cell: a client that shows variant 1 did not reach variant 0's node.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { freePort } from "../harness/ports.ts";
import { waitFor } from "../harness/wait.ts";
import { makeWorkDir, type Proc, readBanner, spawnLogged, stopAll, waitForProc } from "./procs.ts";

const execFileAsync = promisify(execFile);

export const SCREEN_WIDTH = 640;
export const SCREEN_HEIGHT = 480;
const COLUMNS = 4;
const ROWS = 4;
const CELL_WIDTH = SCREEN_WIDTH / COLUMNS;
const CELL_HEIGHT = SCREEN_HEIGHT / ROWS;

/** Sixteen distinct colours, no black (a canvas that received nothing is black or transparent). */
const PALETTE = [
  0xff0000, 0x00ff00, 0x0000ff, 0xffff00, 0xff00ff, 0x00ffff, 0xffffff, 0x800000,
  0x008000, 0x000080, 0x808000, 0x800080, 0x008080, 0xc0c0c0, 0xff8000, 0x8000ff,
] as const;

export interface KnownPixel {
  x: number;
  y: number;
  /** 0xRRGGBB */
  rgb: number;
}

/** Xvfb with the known picture and x11vnc on `vncPort`: RFB over TCP on loopback, no WebSocket. */
export interface VncDesktop {
  /** The X display, e.g. ":3". */
  display: string;
  vncPort: number;
  /** x11vnc's log (one "Got connection from client" line per RFB client). */
  vncLogFile: string;
  width: number;
  height: number;
  variant: number;
  knownPixels: KnownPixel[];
  /** The expected picture as a PNG (for eyes, next to a screenshot). */
  picturePath: string;
  logDir: string;
  stop(): Promise<void>;
}

/** A VNC desktop with websockify in front. */
export interface Desktop extends VncDesktop {
  websockifyPort: number;
  /** The desktop endpoint, `http://127.0.0.1:W`; WebSocket clients use `${websockifyUrl}/websockify`. */
  websockifyUrl: string;
}

export interface DesktopOptions {
  /** Where logs and the picture go (default: a fresh temp dir). */
  logDir?: string;
  /** Rotates the palette; desktops with different variants differ in every cell. */
  variant?: number;
  /** Name used in log file names. */
  name?: string;
}

export function cellColour(column: number, row: number, variant = 0): number {
  return PALETTE[(row * COLUMNS + column + variant * 7) % PALETTE.length] as number;
}

/** Points to check per cell: a 3 × 3 grid from 12 px inside the edges to the centre. */
export function knownPixelsFor(variant = 0): KnownPixel[] {
  const pixels: KnownPixel[] = [];
  for (let row = 0; row < ROWS; row++) {
    for (let column = 0; column < COLUMNS; column++) {
      const rgb = cellColour(column, row, variant);
      const x0 = column * CELL_WIDTH;
      const y0 = row * CELL_HEIGHT;
      for (const dx of [12, CELL_WIDTH / 2, CELL_WIDTH - 13]) {
        for (const dy of [12, CELL_HEIGHT / 2, CELL_HEIGHT - 13]) pixels.push({ x: x0 + dx, y: y0 + dy, rgb });
      }
    }
  }
  return pixels;
}

export const hex = (rgb: number): string => `#${rgb.toString(16).padStart(6, "0")}`;

/** ImageMagick `convert` arguments that draw the grid into `out`. */
function pictureArgs(variant: number, out: string): string[] {
  const args = ["-size", `${SCREEN_WIDTH}x${SCREEN_HEIGHT}`, "xc:#000000"];
  for (let row = 0; row < ROWS; row++) {
    for (let column = 0; column < COLUMNS; column++) {
      const x0 = column * CELL_WIDTH;
      const y0 = row * CELL_HEIGHT;
      args.push("-fill", hex(cellColour(column, row, variant)), "-draw", `rectangle ${x0},${y0} ${x0 + CELL_WIDTH - 1},${y0 + CELL_HEIGHT - 1}`);
    }
  }
  args.push("-depth", "8", `png24:${out}`);
  return args;
}

export interface PixelMismatch {
  x: number;
  y: number;
  expected: string;
  actual: string;
}

/** An [r, g, b] reader: the colour at (x, y), or null where there is none (outside the image). */
export type PixelReader = (x: number, y: number) => readonly [number, number, number] | null;

export interface Comparison {
  mismatches: PixelMismatch[];
  /** The largest difference in any channel over all compared points (0: exact). */
  maxDelta: number;
}

/** Compares the known pixels with what `read` gives, each channel within `tolerance`. */
export function compareKnown(known: KnownPixel[], read: PixelReader, tolerance = 0): Comparison {
  const mismatches: PixelMismatch[] = [];
  let maxDelta = 0;
  for (const { x, y, rgb } of known) {
    const actual = read(x, y);
    const expected = [(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff] as const;
    if (!actual) {
      mismatches.push({ x, y, expected: hex(rgb), actual: "none" });
      maxDelta = 255;
      continue;
    }
    const delta = Math.max(...actual.map((value, channel) => Math.abs(value - expected[channel]!)));
    maxDelta = Math.max(maxDelta, delta);
    if (delta > tolerance) mismatches.push({ x, y, expected: hex(rgb), actual: hex((actual[0] << 16) | (actual[1] << 8) | actual[2]) });
  }
  return { mismatches, maxDelta };
}

/** A reader over packed RGB (stride 3) or RGBA (stride 4) bytes, row-major, `width` × `height`. */
export function packedReader(data: Uint8Array, width: number, height: number, stride: 3 | 4): PixelReader {
  return (x, y) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return null;
    const offset = (y * width + x) * stride;
    if (offset + 2 >= data.length) return null;
    return [data[offset]!, data[offset + 1]!, data[offset + 2]!];
  };
}

/** The X root window as packed RGB bytes, read back with ImageMagick's `import`. */
async function readRootWindow(display: string): Promise<Buffer> {
  const { stdout } = await execFileAsync("import", ["-window", "root", "-depth", "8", "rgb:-"], {
    env: { ...process.env, DISPLAY: display },
    encoding: "buffer",
    maxBuffer: 16 * 1024 * 1024,
    timeout: 10_000,
  });
  return stdout;
}

/** Reads the display number Xvfb writes to its -displayfd once it accepts connections. */
function readDisplayNumber(stream: Readable, proc: Proc, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`Xvfb did not report a display within ${timeoutMs} ms`)), timeoutMs);
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      text += chunk;
      const match = /^(\d+)\n/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(`:${match[1]}`);
      }
    });
    void proc.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited before reporting its display (log: ${proc.logFile})`));
    });
  });
}

/** Node 22's global (WHATWG) WebSocket, typed here: test/tsconfig.json has the Workers types. */
interface ClientSocket {
  binaryType: string;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  close(): void;
}
const NodeWebSocket = (globalThis as unknown as { WebSocket: new (url: string, protocols: string[]) => ClientSocket }).WebSocket;

/**
 * Opens a WebSocket to an RFB endpoint (websockify or the relay) and resolves with the server's
 * 12-byte protocol banner, e.g. "RFB 003.008\n". Rejects on error, close or timeout.
 */
export function rfbBannerOverWebSocket(url: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new NodeWebSocket(url, ["binary"]);
    socket.binaryType = "arraybuffer";
    const finish = (error: Error | null, banner?: string) => {
      clearTimeout(timer);
      socket.onmessage = socket.onerror = socket.onclose = null;
      try {
        socket.close();
      } catch {
        // not open
      }
      if (error) reject(error);
      else resolve(banner as string);
    };
    const timer = setTimeout(() => finish(new Error(`no RFB banner from ${url} within ${timeoutMs} ms`)), timeoutMs);
    let received = Buffer.alloc(0);
    socket.onmessage = (event) => {
      const data = event.data;
      const chunk = typeof data === "string" ? Buffer.from(data, "base64") : Buffer.from(data as ArrayBuffer);
      received = Buffer.concat([received, chunk]);
      if (received.length >= 12) finish(null, received.subarray(0, 12).toString("latin1"));
    };
    socket.onerror = () => finish(new Error(`WebSocket error on ${url}`));
    socket.onclose = (event) => finish(new Error(`WebSocket to ${url} closed (${event.code}) before the RFB banner`));
  });
}

/** Starts Xvfb + known picture + x11vnc; stops everything it started if a step fails. */
export async function startVncDesktop(options: DesktopOptions = {}): Promise<VncDesktop> {
  const variant = options.variant ?? 0;
  const name = options.name ?? `desktop${variant}`;
  const logDir = options.logDir ?? makeWorkDir("e2e-desktop");
  mkdirSync(logDir, { recursive: true });
  const procs: Proc[] = [];
  const stop = () => stopAll(procs);
  try {
    // Xvfb picks a free display itself (-displayfd) and reports it once it accepts clients.
    // -noreset: the root window keeps its picture when the last client disconnects.
    const xvfb = spawnLogged("Xvfb", "Xvfb", ["-displayfd", "3", "-screen", "0", `${SCREEN_WIDTH}x${SCREEN_HEIGHT}x24`, "-nolisten", "tcp", "-noreset"], {
      logFile: join(logDir, `${name}-xvfb.log`),
      extraStdio: ["pipe"],
    });
    procs.push(xvfb);
    const display = await readDisplayNumber(xvfb.child.stdio[3] as Readable, xvfb, 15_000);
    const xEnv = { ...process.env, DISPLAY: display };

    // The known picture: drawn with ImageMagick, set as the root window's background, read back.
    const picturePath = join(logDir, `${name}-picture.png`);
    await execFileAsync("convert", pictureArgs(variant, picturePath), { timeout: 20_000 });
    const knownPixels = knownPixelsFor(variant);
    const paintLog = join(logDir, `${name}-paint.log`);
    let lastMismatch: PixelMismatch[] = [];
    await waitFor(
      async () => {
        // `display -window root` sets the background and exits; its exit status is not reliable
        // (1 even on success here), so the readback below is the check.
        const painted = await execFileAsync("display", ["-window", "root", picturePath], { env: xEnv, timeout: 10_000 }).catch(
          (error: { stderr?: string; code?: number }) => ({ stdout: "", stderr: `exit ${String(error.code)}: ${error.stderr ?? ""}` }),
        );
        writeFileSync(paintLog, `${new Date().toISOString()} display -window root: ${painted.stderr}\n`, { flag: "a" });
        const root = await readRootWindow(display);
        lastMismatch = compareKnown(knownPixels, packedReader(root, SCREEN_WIDTH, SCREEN_HEIGHT, 3)).mismatches;
        return root.length === SCREEN_WIDTH * SCREEN_HEIGHT * 3 && lastMismatch.length === 0;
      },
      20_000,
      `the known picture on ${display}`,
      250,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; first mismatches: ${JSON.stringify(lastMismatch.slice(0, 5))}`);
    });

    // x11vnc: loopback only, no password, stays up across clients, no cursor drawn into the picture.
    const vncPort = await freePort();
    const vncLogFile = join(logDir, `${name}-x11vnc.log`);
    const x11vnc = spawnLogged(
      "x11vnc",
      "x11vnc",
      ["-display", display, "-rfbport", String(vncPort), "-localhost", "-noipv6", "-nopw", "-forever", "-shared", "-nocursor", "-norc"],
      { logFile: vncLogFile, env: xEnv },
    );
    procs.push(x11vnc);
    await waitForProc(x11vnc, async () => (await readBanner(vncPort, 12)).toString("latin1").startsWith("RFB 003."), 20_000, `x11vnc on port ${vncPort}`);

    return { display, vncPort, vncLogFile, width: SCREEN_WIDTH, height: SCREEN_HEIGHT, variant, knownPixels, picturePath, logDir, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** Starts a VNC desktop with websockify in front as its endpoint; stops everything it started if a step fails. */
export async function startDesktop(options: DesktopOptions = {}): Promise<Desktop> {
  const desktop = await startVncDesktop(options);
  const name = options.name ?? `desktop${desktop.variant}`;
  let websockify: Proc | undefined;
  const stop = () => stopAll([desktop, websockify]);
  try {
    const websockifyPort = await freePort();
    const proc = spawnLogged("websockify", "websockify", [`127.0.0.1:${websockifyPort}`, `127.0.0.1:${desktop.vncPort}`], {
      logFile: join(desktop.logDir, `${name}-websockify.log`),
    });
    websockify = proc;
    await waitForProc(
      proc,
      async () => (await rfbBannerOverWebSocket(`ws://127.0.0.1:${websockifyPort}/websockify`, 2000)).startsWith("RFB 003."),
      20_000,
      `websockify on port ${websockifyPort} relaying RFB`,
    );
    return { ...desktop, websockifyPort, websockifyUrl: `http://127.0.0.1:${websockifyPort}`, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
