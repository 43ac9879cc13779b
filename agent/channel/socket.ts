/**
 * The WebSocket the channel client drives, as an injectable function: `ws-socket.ts` opens real
 * ones (main.ts wires it), tests pass fakes. Only what the client needs: send text, close,
 * drop, and the events of one connection.
 */

export interface ChannelSocket {
  send(text: string): void;
  /** An orderly close with a code and reason. */
  close(code: number, reason: string): void;
  /** Drops the connection at once, without a close handshake (the peer stopped answering). */
  terminate(): void;
}

export interface SocketEvents {
  /** A text frame as a string; a binary frame as bytes (the protocol has none). */
  message(data: string | Uint8Array): void;
  /** Once, when the connection ended for any reason (1006 when it broke without a close frame). */
  close(code: number, reason: string): void;
}

/** The broker answered the upgrade with an HTTP status instead of 101; `code` from its error envelope. */
export class UpgradeRefused extends Error {
  override name = "UpgradeRefused";
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(`HTTP ${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

/**
 * Opens a WebSocket to `url` with `headers`; resolves once it is open. Rejects with
 * `UpgradeRefused` for an HTTP answer, or another error (network, timeout, abort).
 */
export type OpenSocket = (url: string, headers: Record<string, string>, events: SocketEvents, signal: AbortSignal) => Promise<ChannelSocket>;
