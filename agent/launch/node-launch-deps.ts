/** The real side effects of launching: child processes, signals, /proc and the file system. */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, readFile, realpath, stat } from "node:fs/promises";
import type { FileAccess, Timers } from "../deps.ts";
import type { LaunchDeps } from "./launch-deps.ts";
import type { LauncherFiles } from "./launcher-file.ts";
import type { SignalProcess } from "./run-launcher.ts";

export const nodeLauncherFiles: LauncherFiles = {
  realpath: (path) => realpath(path),
  stat: async (path) => {
    const stats = await stat(path);
    return { isFile: stats.isFile(), mode: stats.mode };
  },
  isExecutable: (path) => access(path, constants.X_OK).then(() => true, () => false),
};

export const signalProcess: SignalProcess = (target, signal) => {
  try {
    process.kill(target, signal);
    return "sent";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM" ? "denied" : "gone";
  }
};

/**
 * Field 22 of /proc/PID/stat (start time in clock ticks since boot), read after the parenthesised
 * command name; null for a zombie, which has exited (its parent has not reaped it yet).
 */
export function startTicks(statText: string): string | null {
  const fields = statText.slice(statText.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return null;
  return fields[19] ?? null;
}

/** `${boot id}:${start ticks}` from `procRoot`, null when the process does not exist. */
export async function readProcessIdentity(pid: number, procRoot = "/proc"): Promise<string | null> {
  try {
    const [bootId, statText] = await Promise.all([readFile(`${procRoot}/sys/kernel/random/boot_id`, "utf8"), readFile(`${procRoot}/${pid}/stat`, "utf8")]);
    const ticks = startTicks(statText);
    return ticks ? `${bootId.trim()}:${ticks}` : null;
  } catch {
    return null;
  }
}

/** The pid and process group of this process (field 5 of /proc/self/stat). */
export async function ownPids(pid: number): Promise<number[]> {
  const statText = await readFile("/proc/self/stat", "utf8").catch(() => "");
  const pgid = Number(statText.slice(statText.lastIndexOf(")") + 2).split(" ")[2]);
  return Number.isInteger(pgid) && pgid > 0 && pgid !== pid ? [pid, pgid] : [pid];
}

export async function nodeLaunchDeps(base: Timers & { fs: FileAccess; now: () => number; log: (line: string) => void }, self: { pid: number; execPath: string }): Promise<LaunchDeps> {
  return {
    setTimer: base.setTimer,
    clearTimer: base.clearTimer,
    now: base.now,
    log: base.log,
    fs: base.fs,
    // The env is the whole environment on purpose (no variable of the agent is inherited).
    spawn: (file, args, options) => spawn(file, [...args], { ...options, env: options.env as NodeJS.ProcessEnv }),
    signal: signalProcess,
    files: nodeLauncherFiles,
    processIdentity: (pid) => readProcessIdentity(pid),
    selfPids: await ownPids(self.pid),
    nodePath: self.execPath,
  };
}
