/**
 * The client side of the relay bench (`ws`, permessage-deflate off, random masks as browsers
 * use; the stalled reader is in stalled-reader.ts): each function takes ready-made URLs (a
 * relay URL carries its own single-use ticket), so the same code measures the node directly,
 * the broker's relay and HAProxy. Every wait is bounded; a connection that fails or times out
 * is counted as an error, not retried.
 */
import { randomBytes } from "node:crypto";
import { WebSocket } from "ws";

const CONNECT_TIMEOUT_MS = 10_000;
const MESSAGE_TIMEOUT_MS = 10_000;

export function openSocket(url: string): Promise<{ ws: WebSocket; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: CONNECT_TIMEOUT_MS });
    ws.binaryType = "nodebuffer";
    const fail = (error: Error) => {
      ws.terminate();
      reject(error);
    };
    ws.once("open", () => {
      ws.off("error", fail);
      ws.on("error", () => ws.terminate());
      resolve({ ws, ms: performance.now() - started });
    });
    ws.once("error", fail);
    ws.once("unexpected-response", (_request, response) => fail(new Error(`upgrade answered ${response.statusCode}`)));
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

function nextMessage(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error("no answer within 10 s")), MESSAGE_TIMEOUT_MS);
    const onMessage = (data: Buffer) => finish(null, data);
    const onClose = () => finish(new Error("closed while waiting"));
    function finish(error: Error | null, data?: Buffer) {
      clearTimeout(timer);
      ws.off("message", onMessage);
      ws.off("close", onClose);
      if (error) reject(error);
      else resolve(data as Buffer);
    }
    ws.on("message", onMessage);
    ws.on("close", onClose);
  });
}

/** `count` sequential round trips of `size`-byte binary messages; milliseconds each. */
export async function roundTrips(ws: WebSocket, count: number, size: number): Promise<number[]> {
  const payload = randomBytes(size);
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    const answer = nextMessage(ws);
    ws.send(payload, { binary: true });
    const echoed = await answer;
    times.push(performance.now() - started);
    if (echoed.length !== size) throw new Error(`echo of ${size} bytes came back as ${echoed.length}`);
  }
  return times;
}

export interface ThroughputResult {
  bytes: number;
  seconds: number;
}

/**
 * Echo throughput on one connection: 64 KiB binary frames, at most `windowBytes` sent and not
 * yet echoed, until `totalBytes` are sent or `maxMs` pass; timed to the last echoed byte.
 */
function pumpEcho(ws: WebSocket, frame: Buffer, totalBytes: number, maxMs: number, windowBytes: number): Promise<ThroughputResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let sent = 0;
    let received = 0;
    let sending = true;
    const timer = setTimeout(() => finish(new Error(`echo stalled: ${received} of ${sent} bytes back`)), maxMs + MESSAGE_TIMEOUT_MS);
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
    const onClose = () => finish(new Error("closed during the throughput run"));
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

export async function throughput(url: string, options: { warmupBytes: number; totalBytes: number; maxMs: number; windowBytes: number }): Promise<ThroughputResult> {
  const { ws } = await openSocket(url);
  try {
    const frame = randomBytes(64 * 1024);
    await pumpEcho(ws, frame, options.warmupBytes, options.maxMs, options.windowBytes);
    return await pumpEcho(ws, frame, options.totalBytes, options.maxMs, options.windowBytes);
  } finally {
    await closeSocket(ws);
  }
}

export interface SetupResult {
  times: number[];
  errors: number;
}

/** One connection after another: time from `new WebSocket` to `open`; each closed before the next. */
export async function sequentialConnects(urls: string[]): Promise<SetupResult> {
  const times: number[] = [];
  let errors = 0;
  for (const url of urls) {
    try {
      const { ws, ms } = await openSocket(url);
      times.push(ms);
      await closeSocket(ws);
    } catch {
      errors++;
    }
  }
  return { times, errors };
}

/** Like `sequentialConnects`, but each URL is fetched first (a relay ticket): times both parts. */
export async function ticketedConnects(count: number, ticketUrl: () => Promise<string>): Promise<{ ticket: number[]; connect: number[]; total: number[]; errors: number }> {
  const ticket: number[] = [];
  const connect: number[] = [];
  const total: number[] = [];
  let errors = 0;
  for (let index = 0; index < count; index++) {
    try {
      const started = performance.now();
      const url = await ticketUrl();
      const fetched = performance.now() - started;
      const { ws, ms } = await openSocket(url);
      ticket.push(fetched);
      connect.push(ms);
      total.push(performance.now() - started);
      await closeSocket(ws);
    } catch {
      errors++;
    }
  }
  return { ticket, connect, total, errors };
}

export interface ConcurrentResult {
  connections: number;
  seconds: number;
  connect: number[];
  rtt: number[];
  errors: number;
  firstError: string | null;
}

/** All URLs opened at once; each connection does `trips` small round trips, then closes. */
export async function concurrentConnections(urls: string[], trips: number, size: number): Promise<ConcurrentResult> {
  const connect: number[] = [];
  const rtt: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const started = performance.now();
  await Promise.all(
    urls.map(async (url) => {
      let ws: WebSocket | null = null;
      try {
        const opened = await openSocket(url);
        ws = opened.ws;
        connect.push(opened.ms);
        rtt.push(...(await roundTrips(ws, trips, size)));
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
      if (ws) await closeSocket(ws);
    }),
  );
  return { connections: urls.length, seconds: (performance.now() - started) / 1000, connect, rtt, errors, firstError };
}
