/**
 * The parts of an xvnc start timed on their own, to say where a start's time goes: the shipped
 * `xvnc` launcher run as the agent runs it (as `edge-agent`, JSON on stdin, the agent's env),
 * the `as-user xvnc-start` helper through `sudo -n` (sudo, cookie, Xvnc up, the session
 * spawned), and Xvnc alone until it reports its display (-displayfd). Every desktop started here
 * is stopped before the next run.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DEFAULT_LAUNCHER_PATH } from "../../agent/launch/config.ts";
import { SOLID_DESKTOP } from "../../test/e2e/launch-cluster.ts";
import { DESKTOP_GEOMETRY } from "../../test/e2e/launched-desktops.ts";
import { AGENT_USER, HELPER, LAUNCHERS_DIR } from "../../test/e2e/node-accounts.ts";
import { ISOLATED_RUNS } from "./parameters.ts";

const execFileAsync = promisify(execFile);

export interface IsolatedTimes {
  /** The launcher refusing an empty request: Node's start, the TypeScript and zod imports, the parse (what every run pays before any work). */
  launcherStartupMs: number[];
  /** The launcher process: spawn to exit, and to both output streams closed (the agent waits for that). */
  launcherExitMs: number[];
  launcherClosedMs: number[];
  helperMs: number[];
  xvncMs: number[];
}

interface ProcessRun {
  exitMs: number;
  closedMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `file` with `input` on stdin; times to exit and to stdout and stderr closed. */
function timedRun(file: string, args: string[], input: string, options: { uid?: number; gid?: number; env?: Record<string, string>; cwd?: string }): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { ...options, env: options.env as NodeJS.ProcessEnv | undefined, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let exitMs = Number.NaN;
    let code: number | null = null;
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("error", reject);
    child.once("exit", (exitCode) => {
      exitMs = performance.now() - started;
      code = exitCode;
    });
    child.once("close", () => resolve({ exitMs, closedMs: performance.now() - started, code, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function idOf(login: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([execFileAsync("id", ["-u", login]), execFileAsync("id", ["-g", login])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/** The xvnc launcher's stdin, as the agent writes it (agent/launch/request.ts). */
function launcherInput(action: "start" | "stop", login: string, sessionId: string, handle: Record<string, unknown> = {}) {
  const base = {
    action,
    sessionId,
    user: { login, groups: [], isAdmin: false },
    profile: { id: "bench-xvnc", launcher: "xvnc", params: { session: [SOLID_DESKTOP], geometry: DESKTOP_GEOMETRY, depth: 24 } },
    data: {},
    node: { serverId: "srv_bench", hostname: "bench-node" },
  };
  return `${JSON.stringify(action === "stop" ? { ...base, handle, reason: "bench" } : base)}\n`;
}

async function launcherAlone(login: string, run: number, agent: { uid: number; gid: number }, times: IsolatedTimes): Promise<void> {
  const env = { PATH: DEFAULT_LAUNCHER_PATH, LANG: "C.UTF-8", EDGE_AGENT_NODE: process.execPath };
  const options = { ...agent, env, cwd: LAUNCHERS_DIR };
  const refused = await timedRun(join(LAUNCHERS_DIR, "xvnc"), [], "{}\n", options);
  if (refused.code !== 1) throw new Error(`the xvnc launcher accepted an empty request: ${refused.stdout}`);
  times.launcherStartupMs.push(refused.exitMs);
  const sessionId = `bench_launcher_${run}`;
  const started = await timedRun(join(LAUNCHERS_DIR, "xvnc"), [], launcherInput("start", login, sessionId), options);
  if (started.code !== 0) throw new Error(`the xvnc launcher failed: ${started.stderr}`);
  times.launcherExitMs.push(started.exitMs);
  times.launcherClosedMs.push(started.closedMs);
  const { handle } = JSON.parse(started.stdout) as { handle: Record<string, unknown> };
  const stopped = await timedRun(join(LAUNCHERS_DIR, "xvnc"), [], launcherInput("stop", login, sessionId, handle), options);
  if (stopped.code !== 0) throw new Error(`the xvnc launcher's stop failed: ${stopped.stderr}`);
}

async function helperAlone(login: string, run: number, agent: { uid: number; gid: number }, times: IsolatedTimes): Promise<void> {
  const sessionId = `bench_helper_${run}`;
  const started = await timedRun("sudo", ["-n", HELPER, "xvnc-start", login, sessionId, DESKTOP_GEOMETRY, "24", "--", SOLID_DESKTOP], "", agent);
  if (started.code !== 0) throw new Error(`as-user xvnc-start failed: ${started.stderr}`);
  times.helperMs.push(started.exitMs);
  const pid = /^pid=(\d+)$/m.exec(started.stdout)?.[1] ?? "";
  const stopped = await timedRun("sudo", ["-n", HELPER, "xvnc-stop", login, sessionId, pid], "", agent);
  if (stopped.code !== 0) throw new Error(`as-user xvnc-stop failed: ${stopped.stderr}`);
}

/** Xvnc as this process's user on a unix socket in a scratch directory, until it writes its display to fd 3. */
async function xvncAlone(times: IsolatedTimes): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-xvnc-"));
  try {
    const started = performance.now();
    const args = ["-displayfd", "3", "-rfbunixpath", join(dir, "rfb.sock"), "-rfbport", "-1", "-nolisten", "tcp", "-SecurityTypes", "None", "-geometry", DESKTOP_GEOMETRY, "-depth", "24"];
    const child = spawn("Xvnc", args, { stdio: ["ignore", "ignore", "ignore", "pipe"] });
    const displayFd = child.stdio[3] as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      displayFd.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`Xvnc exited (${code}) before reporting its display`)));
    });
    times.xvncMs.push(performance.now() - started);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureIsolated(login: string): Promise<IsolatedTimes> {
  const agent = await idOf(AGENT_USER);
  const times: IsolatedTimes = { launcherStartupMs: [], launcherExitMs: [], launcherClosedMs: [], helperMs: [], xvncMs: [] };
  // One untimed run of each first (page cache, sudo's first lookups).
  await launcherAlone(login, 0, agent, { launcherStartupMs: [], launcherExitMs: [], launcherClosedMs: [], helperMs: [], xvncMs: [] });
  for (let run = 1; run <= ISOLATED_RUNS; run++) {
    await launcherAlone(login, run, agent, times);
    await helperAlone(login, run, agent, times);
    await xvncAlone(times);
  }
  return times;
}
