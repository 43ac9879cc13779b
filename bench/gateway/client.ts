/**
 * The client side of the gateway bench (`ws`, permessage-deflate off, masked frames as browsers
 * send them, the `binary` subprotocol as noVNC offers it): echo throughput and a stalled reader.
 * The gateway needs a fresh broker assertion per connection (the `headers`); websockify ignores
 * it. Every wait is bounded.
 */
import { randomBytes } from "node:crypto";
import { WebSocket } from "ws";
import type { FloodReport } from "./processes.ts";

const CONNECT_TIMEOUT_MS = 10_000;
const STALL_GRACE_MS = 10_000;

export interface Target {
  url: string;
  /** Headers for one connection (a fresh assertion each time for the gateway). */
  headers(): Promise<Record<string, string>>;
}

export async function openSocket(target: Target): Promise<WebSocket> {
  const headers = await target.headers();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target.url, ["binary"], { perMessageDeflate: false, handshakeTimeout: CONNECT_TIMEOUT_MS, headers });
    ws.binaryType = "nodebuffer";
    ws.once("open", () => {
      ws.off("error", reject);
      ws.on("error", () => ws.terminate());
      resolve(ws);
    });
    ws.once("error", reject);
    ws.once("unexpected-response", (_request, response) => {
      ws.terminate();
      reject(new Error(`upgrade answered ${response.statusCode}`));
    });
  });
}

export function closeSocket(ws: WebSocket, timeoutMs = 3_000): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, timeoutMs);
    ws.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close();
  });
}

export interface EchoRun {
  bytes: number;
  seconds: number;
}

/**
 * 64 KiB binary frames through an echo, at most `windowBytes` sent and not yet echoed, until
 * `totalBytes` are sent or `maxMs` pass; timed to the last echoed byte. The echo is a TCP
 * stream, so what comes back is counted in bytes, whatever the frames' sizes.
 */
export function pumpEcho(ws: WebSocket, totalBytes: number, maxMs: number, windowBytes: number): Promise<EchoRun> {
  const frame = randomBytes(64 * 1024);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let sent = 0;
    let received = 0;
    let sending = true;
    const timer = setTimeout(() => finish(new Error(`echo stalled: ${received} of ${sent} bytes back`)), maxMs + STALL_GRACE_MS);
    const fill = () => {
      while (sending && sent - received < windowBytes) {
        ws.send(frame, { binary: true });
        sent += frame.length;
        if (sent >= totalBytes || performance.now() - started >= maxMs) sending = false;
      }
    };
    const onMessage = (data: Buffer) => {
      received += data.length;
      if (!sending && received >= sent) finish(null);
      else fill();
    };
    const onClose = (code: number, reason: Buffer) => finish(new Error(`closed during the run: ${code} ${reason.toString()}`));
    function finish(error: Error | null) {
      clearTimeout(timer);
      ws.off("message", onMessage);
      ws.off("close", onClose);
      if (error) reject(error);
      else resolve({ bytes: received, seconds: (performance.now() - started) / 1000 });
    }
    ws.on("message", onMessage);
    ws.on("close", onClose);
    fill();
  });
}

export interface StallResult {
  /** What the endpoint's socket accepted while the client read nothing, and in the stall's second half. */
  flood: FloodReport;
  /** Bytes the client got once it read again. */
  drainedBytes: number;
}

/**
 * A client that reads nothing (paused from the upgrade on) while the flood endpoint pushes at it
 * for its bounded time; then it reads again, drains what was pushed, and closes.
 */
export async function stalledReader(target: Target, nextFlood: () => Promise<FloodReport>): Promise<StallResult> {
  const report = nextFlood();
  const ws = await openSocket(target);
  let drained = 0;
  ws.on("message", (data: Buffer) => (drained += data.length));
  ws.pause();
  const flood = await report;
  ws.resume();
  const deadline = performance.now() + 15_000;
  while (drained < flood.acceptedBytes && performance.now() < deadline && ws.readyState === WebSocket.OPEN) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await closeSocket(ws);
  return { flood, drainedBytes: drained };
}
