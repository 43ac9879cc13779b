/**
 * The HTTP side of the gateway's upgrade: what makes a request a WebSocket handshake worth
 * checking further, the subprotocols it offers, and a plain-text refusal written straight to the
 * socket (no upgrade happened, so the status line is all the caller gets).
 */
import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/** RFC 6455 §4.2.1: a 16-byte nonce in base64, and version 13 (ws also takes 8). */
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;
const VERSIONS = new Set(["8", "13"]);

/** Null when `request` is a WebSocket handshake `ws` will complete; else what is wrong with it. */
export function handshakeProblem(request: IncomingMessage): string | null {
  if (request.method !== "GET") return "only GET upgrades are served";
  if ((request.headers.upgrade ?? "").toLowerCase() !== "websocket") return "only WebSocket upgrades are served";
  const key = request.headers["sec-websocket-key"];
  if (typeof key !== "string" || !KEY_PATTERN.test(key)) return "missing or invalid Sec-WebSocket-Key";
  if (!VERSIONS.has(request.headers["sec-websocket-version"] ?? "")) return "unsupported Sec-WebSocket-Version";
  return null;
}

/** The subprotocols the client offered, in its order. */
export function offeredProtocols(request: IncomingMessage): string[] {
  const header = request.headers["sec-websocket-protocol"];
  if (typeof header !== "string") return [];
  return header
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/** Answers `status` with a one-line text body and closes the socket once it is written. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${message}\n`;
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
    "Connection: close",
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`, () => socket.destroy());
}
