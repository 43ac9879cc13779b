/** The real side effects: fetch, WebSockets, timers, child processes and the file system of this machine. */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { openWsSocket } from "./channel/ws-socket.ts";
import type { AgentDeps, Exec, FileAccess } from "./deps.ts";

const execCapped: Exec = (file, args, options) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      {
        encoding: "utf8",
        timeout: options.timeoutMs,
        maxBuffer: options.maxOutputBytes,
        killSignal: "SIGKILL",
        windowsHide: true,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const detail = stderr.trim().split("\n")[0] ?? "";
        reject(new Error(`${file} failed: ${error.message.split("\n")[0]}${detail ? ` (${detail})` : ""}`));
      },
    );
  });

export const nodeFileAccess: FileAccess = {
  readText: (path) => readFile(path, "utf8"),
  mtimeMs: async (path) => (await stat(path)).mtimeMs,
  ensurePrivateDir: async (path) => {
    await mkdir(path, { recursive: true, mode: 0o700 });
  },
  writePrivateTemp: async (path, text) => {
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
    // `wx` refuses to follow a planted file or symlink; the mode applies at creation.
    await writeFile(temp, text, { encoding: "utf8", mode: 0o600, flag: "wx" });
    return temp;
  },
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
};

/** Real dependencies; `log` is supplied by the caller (main.ts owns stderr). */
export function nodeDeps(log: (line: string) => void): AgentDeps {
  return {
    send: (url, init) => fetch(url, init),
    openSocket: openWsSocket,
    exec: execCapped,
    fs: nodeFileAccess,
    setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
    clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    now: () => Date.now(),
    random: () => Math.random(),
    log,
  };
}
