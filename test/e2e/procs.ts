/**
 * Process plumbing for the end-to-end suites: children started in their own process group with
 * their output in a log file, stopped group-wide (SIGTERM, then SIGKILL), readiness waits tied
 * to a process, and log tails to print when a test fails. Loopback only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { waitFor } from "../harness/wait.ts";

/** Every process group this test process started and has not seen exit: killed on exit as a last resort. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killLiveGroups(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", killLiveGroups);
  // Children run in their own groups, so a Ctrl-C or a runner's SIGTERM does not reach them:
  // kill them, then let the signal do what it would have done (these handlers are one-shot).
  if (isMainThread) {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(signal, () => {
        killLiveGroups();
        process.kill(process.pid, signal);
      });
    }
  }
}

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** Resolves when the process has exited (code or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: boolean;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once the leader has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Extra stdio entries after stdout/stderr (fd 3, …), e.g. "pipe" for Xvfb's -displayfd. */
  extraStdio?: Array<"pipe" | "ignore">;
}

/** Starts `command` detached (its own process group), stdout and stderr appended to `logFile`. */
export function spawnLogged(name: string, command: string, args: string[], options: SpawnOptions): Proc {
  installExitHook();
  const log = openSync(options.logFile, "a");
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", log, log, ...(options.extraStdio ?? [])],
    detached: true,
  });
  closeSync(log);
  if (child.pid === undefined) {
    // spawn reports ENOENT & co. asynchronously; swallow that event, throw a clear error now.
    child.once("error", () => undefined);
    throw new Error(`${name}: could not start ${command} (not installed? run npm run test:e2e:setup)`);
  }
  const pid = child.pid;
  liveGroups.add(pid);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      liveGroups.delete(pid);
      resolve({ code, signal });
    });
    child.once("error", () => {
      liveGroups.delete(pid);
      resolve({ code: null, signal: null });
    });
  });
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    pid,
    logFile: options.logFile,
    exited,
    get running() {
      return isRunning();
    },
    async stop(graceMs = 3000) {
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-pid, signal);
        } catch {
          // the group is gone
        }
      };
      if (isRunning()) {
        signalGroup("SIGTERM");
        const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Members of the group that outlived their leader.
      signalGroup("SIGKILL");
    },
  };
}

/** Stops every process, in reverse start order, even when some stop() throws. */
export async function stopAll(procs: Array<{ stop(): Promise<void> } | undefined>): Promise<void> {
  const errors: unknown[] = [];
  for (const proc of [...procs].reverse()) {
    if (!proc) continue;
    try {
      await proc.stop();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, "some processes did not stop cleanly");
}

/** Resolves with the first `bytes` bytes a TCP server on 127.0.0.1:port sends after connect. */
export function readBanner(port: number, bytes: number, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no ${bytes}-byte banner from port ${port}`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= bytes) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data.subarray(0, bytes));
      }
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Waits for `check`, failing at once (with the log tail) if `proc` exits first. */
export async function waitForProc(proc: Proc, check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  await waitFor(
    async () => {
      if (!proc.running) throw new Error(`${proc.name} exited early:\n${tail(proc.logFile, 20)}`);
      return check();
    },
    timeoutMs,
    what,
  ).catch((error: Error) => {
    // Surface the early-exit error rather than the generic timeout.
    if (!proc.running) throw new Error(`${proc.name} exited before ${what}:\n${tail(proc.logFile, 20)}`);
    throw error;
  });
}

/** A fresh directory under the OS temp dir for one suite's logs and state. */
export function makeWorkDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

/** The last `lines` lines of a file ("" if it does not exist). */
export function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return "";
  const text = readFileSync(file, "utf8");
  return text.split("\n").slice(-lines - 1).join("\n");
}

/** The tails of every `*.log` file under `dir` (one level of subdirectories too), for failure reports. */
export function logTails(dir: string, lines = 40): string {
  const files: string[] = [];
  const visit = (folder: string, depth: number) => {
    if (!existsSync(folder)) return;
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      const stats = statSync(path);
      if (stats.isDirectory() && depth > 0) visit(path, depth - 1);
      else if (stats.isFile() && entry.endsWith(".log")) files.push(path);
    }
  };
  visit(dir, 1);
  return files
    .sort()
    .map((file) => `----- ${file} (last ${lines} lines) -----\n${tail(file, lines)}`)
    .join("\n");
}
