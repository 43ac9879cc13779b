/**
 * Runs one launcher once: no shell, its own process group (so a timeout or an oversized answer
 * kills everything it started, not just the launcher), the request as JSON on stdin, at most
 * `maxOutputBytes` of stdout and of stderr, at most `timeoutMs`. The run ends when the launcher
 * exits; a desktop it left running must not hold its stdout/stderr (the contract says so), and
 * whatever still holds them is cut off `DRAIN_MS` after the exit.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { err, ok, type Result } from "../../src/core/result.ts";
import type { Timers } from "../deps.ts";

/** How long output may keep arriving after the launcher exited (pipe buffers, not new work). */
export const DRAIN_MS = 200;

export type SpawnLauncher = (
  file: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; detached: true; stdio: ["pipe", "pipe", "pipe"] },
) => ChildProcessWithoutNullStreams;

/** `process.kill`, answering instead of throwing; a negative target is a process group. */
export type SignalProcess = (target: number, signal: NodeJS.Signals | 0) => "sent" | "gone" | "denied";

export interface RunDeps extends Timers {
  spawn: SpawnLauncher;
  signal: SignalProcess;
}

export interface RunOptions {
  /** The launcher's resolved path (launcher-file.ts). */
  file: string;
  input: unknown;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  maxOutputBytes: number;
}

/** A launcher that exited: its status (or the signal that ended it) and its raw output. */
export interface LauncherRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

export type RunFailure =
  | { kind: "spawn-failed"; message: string }
  | { kind: "timeout"; message: string }
  | { kind: "output-too-large"; message: string };

export function runLauncher(options: RunOptions, deps: RunDeps): Promise<Result<LauncherRun, RunFailure>> {
  return new Promise((resolve) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = deps.spawn(options.file, [], { cwd: options.cwd, env: options.env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    } catch (error) {
      return resolve(err({ kind: "spawn-failed", message: `cannot run the launcher: ${error instanceof Error ? error.message : String(error)}` }));
    }
    const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const sizes = { stdout: 0, stderr: 0 };
    let settled = false;
    let drainTimer: unknown = null;

    const finish = (result: Result<LauncherRun, RunFailure>) => {
      if (settled) return;
      settled = true;
      deps.clearTimer(timeoutTimer);
      if (drainTimer !== null) deps.clearTimer(drainTimer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve(result);
    };
    const killGroup = () => {
      // The launcher leads its own group (detached), so -pid reaches what it started too.
      if (child.pid !== undefined) deps.signal(-child.pid, "SIGKILL");
    };

    const timeoutTimer = deps.setTimer(() => {
      killGroup();
      finish(err({ kind: "timeout", message: `the launcher did not finish within ${options.timeoutMs} ms and was killed` }));
    }, options.timeoutMs);

    for (const stream of ["stdout", "stderr"] as const) {
      child[stream].on("data", (chunk: Buffer) => {
        sizes[stream] += chunk.length;
        if (sizes[stream] > options.maxOutputBytes) {
          killGroup();
          return finish(err({ kind: "output-too-large", message: `the launcher wrote more than ${options.maxOutputBytes} bytes to ${stream} and was killed` }));
        }
        chunks[stream].push(chunk);
      });
    }

    child.once("error", (error: NodeJS.ErrnoException) => {
      finish(err({ kind: "spawn-failed", message: `cannot run the launcher: ${error.code ?? error.message}` }));
    });

    child.once("exit", (code, signal) => {
      const done = () => finish(ok({ code, signal, stdout: Buffer.concat(chunks.stdout), stderr: Buffer.concat(chunks.stderr) }));
      let open = 2;
      const ended = () => {
        if (--open === 0) done();
      };
      for (const stream of [child.stdout, child.stderr]) {
        if (stream.readableEnded) ended();
        else stream.once("end", ended);
      }
      if (!settled) drainTimer = deps.setTimer(done, DRAIN_MS);
    });

    child.stdin.on("error", () => undefined); // a launcher need not read its input
    child.stdin.end(`${JSON.stringify(options.input)}\n`);
  });
}
