/**
 * Opening a session endpoint, bounded by `timeoutMs`: a TCP or Unix socket for the bridge, or a
 * WebSocket for the pass-through (offering the client's subprotocols). Failures are a short
 * reason for the client's 1011 close ("ECONNREFUSED", "timed out after 5000 ms", "Unexpected
 * server response: 404").
 */
import { connect, type Socket } from "node:net";
import { WebSocket } from "ws";
import type { Result } from "../../src/core/result.ts";
import { err, ok } from "../../src/core/result.ts";
import type { Timers } from "../deps.ts";
import type { Endpoint } from "./endpoint.ts";
import { socketErrorText } from "./tcp-bridge.ts";

export type OpenedEndpoint = { kind: "socket"; socket: Socket } | { kind: "ws"; ws: WebSocket };

export interface ConnectOptions {
  timeoutMs: number;
  /** Largest message accepted from a WebSocket endpoint. */
  maxMessageBytes: number;
  /** Subprotocols the client offered, passed to a WebSocket endpoint. */
  protocols: string[];
  timers: Timers;
}

function connectSocket(endpoint: Extract<Endpoint, { kind: "tcp" | "unix" }>, options: ConnectOptions): Promise<Result<Socket, string>> {
  return new Promise((resolve) => {
    const socket = endpoint.kind === "tcp" ? connect({ host: endpoint.host, port: endpoint.port }) : connect({ path: endpoint.path });
    let settled = false;
    const timer = options.timers.setTimer(() => finish(err(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
    function finish(result: Result<Socket, string>) {
      if (settled) return;
      settled = true;
      options.timers.clearTimer(timer);
      if (!result.ok) socket.destroy();
      resolve(result);
    }
    socket.once("connect", () => {
      // RFB is interactive (pointer, keys): small writes go out at once.
      socket.setNoDelay(true);
      finish(ok(socket));
    });
    // Stays attached: an error before the bridge takes the socket leaves it destroyed, which the bridge sees.
    socket.on("error", (error) => finish(err(socketErrorText(error))));
  });
}

function connectWebSocket(url: string, options: ConnectOptions): Promise<Result<WebSocket, string>> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options.protocols, { perMessageDeflate: false, maxPayload: options.maxMessageBytes, handshakeTimeout: options.timeoutMs });
    let settled = false;
    function finish(result: Result<WebSocket, string>) {
      if (settled) return;
      settled = true;
      if (!result.ok) ws.terminate();
      resolve(result);
    }
    ws.once("open", () => {
      // Paused until the bridge listens: a message arriving before would be emitted to nobody.
      ws.pause();
      finish(ok(ws));
    });
    ws.on("error", (error) => finish(err(error.message)));
  });
}

export async function openEndpoint(endpoint: Endpoint, options: ConnectOptions): Promise<Result<OpenedEndpoint, string>> {
  if (endpoint.kind === "ws") {
    const opened = await connectWebSocket(endpoint.url, options);
    return opened.ok ? ok({ kind: "ws", ws: opened.value }) : opened;
  }
  const opened = await connectSocket(endpoint, options);
  return opened.ok ? ok({ kind: "socket", socket: opened.value }) : opened;
}
