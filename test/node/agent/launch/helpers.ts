/**
 * Real parts for the launch tests: launcher scripts written into a temp launcher directory, the
 * real side effects (processes, signals, /proc, files) with the log kept, and a config section.
 * Processes a test starts are killed (by process group) when the test ends.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach } from "vitest";
import { nodeFileAccess } from "../../../../agent/node-deps.ts";
import { type LaunchersConfig, launchersConfigSchema } from "../../../../agent/launch/config.ts";
import type { LaunchDeps } from "../../../../agent/launch/launch-deps.ts";
import { nodeLauncherFiles, readProcessIdentity, signalProcess } from "../../../../agent/launch/node-launch-deps.ts";
import { spawn } from "node:child_process";
import { tempDir } from "../helpers.ts";

const groups = new Set<number>();
afterEach(() => {
  for (const pgid of groups) signalProcess(-pgid, "SIGKILL");
  groups.clear();
});

/** Kills this process group when the test ends (for processes a launcher leaves behind). */
export function killAfterTest(pgid: number): void {
  groups.add(pgid);
}

export async function launcherDir(): Promise<string> {
  const dir = join(await tempDir(), "launchers");
  await mkdir(dir, { mode: 0o755 });
  return dir;
}

/** Writes an executable `#!/bin/sh` launcher `name` with `body` into `dir`; returns its path. */
export async function writeLauncher(dir: string, name: string, body: string, mode = 0o755): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, mode);
  return path;
}

export function launchConfig(dir: string, overrides: Partial<LaunchersConfig> = {}): LaunchersConfig {
  return { ...launchersConfigSchema.parse({ dir }), ...overrides };
}

export function realLaunchDeps(overrides: Partial<LaunchDeps> = {}): LaunchDeps & { lines: string[] } {
  const lines: string[] = [];
  return {
    spawn: (file, args, options) => {
      const child = spawn(file, [...args], { ...options, env: options.env as NodeJS.ProcessEnv });
      if (child.pid !== undefined) groups.add(child.pid);
      return child;
    },
    signal: signalProcess,
    files: nodeLauncherFiles,
    fs: nodeFileAccess,
    processIdentity: (pid) => readProcessIdentity(pid),
    selfPids: [process.pid],
    nodePath: process.execPath,
    setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
    clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    now: () => Date.now(),
    log: (line) => lines.push(line),
    lines,
    ...overrides,
  };
}

export const ALICE = { login: "alice", groups: ["staff"], isAdmin: false };
export const BOB = { login: "bob", groups: [], isAdmin: false };
export const NODE = { serverId: "srv_launchtest0001", hostname: "desk01" };

/** A start request for `launcher` (session `sessionId`, user alice unless given). */
export function startRequest(launcher: string, sessionId = "ses_1", user = ALICE, params: Record<string, unknown> = {}) {
  return { sessionId, user, profile: { id: "desktop", launcher, params }, data: { client: "test" } };
}

/** Whether `pid` is a live process (a zombie is not). */
export async function isAlive(pid: number): Promise<boolean> {
  return (await readProcessIdentity(pid)) !== null;
}

/** Waits until `check` holds, polling every 20 ms, at most `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = "the condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
