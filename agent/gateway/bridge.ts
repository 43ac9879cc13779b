/**
 * What the gateway holds for one accepted connection: the client's WebSocket joined to the
 * session's endpoint (tcp-bridge.ts, ws-bridge.ts). Whoever ends first, the other side is closed
 * too; a close the gateway starts gives the client `closeGraceMs` to answer before its socket is
 * cut, so every connection is gone within that bound.
 */
import { WebSocket } from "ws";
import type { Timers } from "../deps.ts";
import { closeReason } from "./close-codes.ts";
import type { FlowLimits } from "./flow.ts";

/** How long a peer may take to answer a close before its socket is destroyed. */
export const CLOSE_GRACE_MS = 1_000;

export interface FlowState {
  /** Bytes sent towards the client and not yet taken by the kernel. */
  toClientPendingBytes: number;
  /** Bytes sent towards the endpoint and not yet taken by the kernel. */
  toEndpointPendingBytes: number;
  /** False while the endpoint is paused because the client is not reading. */
  readingEndpoint: boolean;
  /** False while the client is paused because the endpoint is not reading. */
  readingClient: boolean;
}

export interface Bridge {
  /** Ends the connection from the gateway's side: the client gets `code` and `reason`. Idempotent. */
  end(code: number, reason: string): void;
  /** True once either side started closing. */
  readonly ending: boolean;
  flow(): FlowState;
  /** Settles once both sides are closed. */
  readonly closed: Promise<void>;
}

export interface BridgeOptions {
  flow: FlowLimits;
  timers: Timers;
  closeGraceMs: number;
}

/** Sends a close frame (reason cut to 123 bytes) and destroys the socket if no answer comes in time. */
export function closeWebSocket(ws: WebSocket, code: number, reason: string, options: BridgeOptions): void {
  if (ws.readyState === WebSocket.CLOSED) return;
  const timer = options.timers.setTimer(() => ws.terminate(), options.closeGraceMs);
  ws.once("close", () => options.timers.clearTimer(timer));
  ws.close(code, closeReason(reason));
}

/** Settles on `event` from `emitter`, or at once if `done()` already holds. */
export function settledOn(emitter: { once(event: string, listener: () => void): unknown }, event: string, done: () => boolean): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}
