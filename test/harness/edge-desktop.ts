/**
 * The `edge-desktop` helper (client/) as a real process, for the tests and benches: signing in
 * with a password on stdin, one-shot commands, and the long-running `forward` and `x2go`
 * endpoints, whose bound address is read from the line they print. Each run has a config
 * directory of its own (the credential file lives there).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { stopChild } from "./proc.ts";

const ROOT = join(import.meta.dirname, "..", "..");
export const EDGE_DESKTOP = join(ROOT, "client", "bin.mjs");

export interface HelperRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HelperOptions {
  configDir: string;
  /** Written to stdin, then stdin is closed. */
  input?: string | Buffer;
  timeoutMs?: number;
}

/** Runs `edge-desktop ARGS --config-dir DIR` to its end. */
export function runHelper(args: string[], options: HelperOptions): Promise<HelperRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [EDGE_DESKTOP, ...args, "--config-dir", options.configDir], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], timeout: options.timeoutMs ?? 30_000 });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/** `login --password-stdin`; throws with the helper's words when it fails. */
export async function helperLogin(broker: string, login: string, password: string, configDir: string, extra: string[] = []): Promise<void> {
  const run = await runHelper(["login", "--broker", broker, "--user", login, "--password-stdin", ...extra], { configDir, input: `${password}\n` });
  if (run.code !== 0) throw new Error(`edge-desktop login: exit ${run.code}: ${run.stderr}`);
}

export interface RunningHelper {
  /** The address the endpoint printed it listens on (`127.0.0.1:PORT`). */
  host: string;
  port: number;
  child: ChildProcess;
  /** Everything the helper wrote to stderr so far. */
  readonly log: string;
  stop(): Promise<void>;
}

/** Starts `forward` or `x2go` and resolves once it prints where it listens. */
export function startHelper(args: string[], configDir: string, logFile?: string): Promise<RunningHelper> {
  const child = spawn(process.execPath, [EDGE_DESKTOP, ...args, "--config-dir", configDir], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const logFd = logFile ? openSync(logFile, "a") : null;
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString("utf8");
    if (logFd !== null) writeSync(logFd, chunk);
  });
  child.once("close", () => logFd !== null && closeSync(logFd));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`edge-desktop ${args[0]} did not start within 15 s: ${log}`)), 15_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    child.once("exit", (code) => fail(new Error(`edge-desktop ${args[0]} exited ${code}: ${log}`)));
    const onData = () => {
      const match = /(?:forwarding|on) http:\/\/(127\.\d+\.\d+\.\d+):(\d+)|forwarding (127\.\d+\.\d+\.\d+):(\d+)/.exec(log);
      if (!match) return;
      clearTimeout(timer);
      child.stderr?.off("data", onData);
      child.removeAllListeners("exit");
      resolve({
        host: match[1] ?? match[3] ?? "",
        port: Number(match[2] ?? match[4]),
        child,
        get log() {
          return log;
        },
        stop: () => stopChild(child, 5_000, "SIGTERM"),
      });
    };
    child.stderr?.on("data", onData);
  });
}
