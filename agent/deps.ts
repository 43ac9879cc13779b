/**
 * The side effects the agent needs, as injectable functions. `agent/main.ts` wires the real
 * ones (`node-deps.ts`); tests pass fakes, so no test needs the network or a real clock.
 */
import type { OpenSocket } from "./channel/socket.ts";

/** The subset of `fetch` the agent uses. */
export type Send = (
  url: string,
  init: { method: "POST"; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<Response>;

/** Runs a program without a shell unless `file` is one; resolves with its stdout. */
export type Exec = (
  file: string,
  args: readonly string[],
  options: { timeoutMs: number; maxOutputBytes: number; signal?: AbortSignal },
) => Promise<string>;

/** File access, kept to what the agent does: read text, check mtimes, write private files. */
export interface FileAccess {
  readText(path: string): Promise<string>;
  /** Modification time in epoch ms; rejects if the file is missing. */
  mtimeMs(path: string): Promise<number>;
  /** Creates `path` and its parents with mode 0700 (existing directories are left as they are). */
  ensurePrivateDir(path: string): Promise<void>;
  /** Writes `text` to a temporary file with mode 0600 in the same directory; returns its path. */
  writePrivateTemp(path: string, text: string): Promise<string>;
  /** Atomically moves a file written by `writePrivateTemp` into place. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; a missing file is not an error. */
  remove(path: string): Promise<void>;
}

/** Timers for chained scheduling; never `setInterval`. */
export interface Timers {
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export interface AgentDeps extends Timers {
  send: Send;
  /** Opens the control channel's WebSocket. */
  openSocket: OpenSocket;
  exec: Exec;
  fs: FileAccess;
  /** Wall clock in epoch ms. */
  now: () => number;
  /** Uniform in [0, 1). */
  random: () => number;
  /** One line to the operator's log (stderr under systemd). */
  log: (line: string) => void;
}

/** The message of anything thrown, on one line. */
export function errorMessage(error: unknown): string {
  let text = error instanceof Error ? error.message : String(error);
  // fetch reports "fetch failed" and hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`.
  if (error instanceof Error && error.cause instanceof Error) text += ` (${error.cause.message})`;
  return text.replace(/\s+/g, " ").trim();
}
