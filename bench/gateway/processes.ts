/**
 * The processes of the gateway bench, all on 127.0.0.1 and stopped by the bench: the TCP
 * endpoints (tcp-endpoints.ts), the agent's gateway (gateway-process.ts) and Debian's websockify
 * (`/usr/bin/websockify`, Python; called by path, since a pyenv `python3` first on PATH cannot
 * import Debian's module). websockify forks a child per connection, so its CPU and memory are
 * read over the process tree: a child's CPU time reaches the parent's cutime/cstime once reaped.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, portOpen } from "../../test/harness/ports.ts";
import { rssBytes, stopChild } from "../../test/harness/proc.ts";
import { waitFor } from "../../test/harness/wait.ts";
import type { GatewayProcessMessage, GatewayProcessOptions } from "./gateway-process.ts";
import type { TcpEndpointsMessage } from "./tcp-endpoints.ts";

export const WEBSOCKIFY_PATH = "/usr/bin/websockify";
/** USER_HZ: clock ticks per second in /proc/<pid>/stat. */
const TICKS_PER_SECOND = 100;

export interface FloodReport {
  acceptedBytes: number;
  acceptedAtHalfBytes: number;
  ms: number;
}

export interface ServerProcess {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** Direct children of `pid` (zombies included: not yet reaped). */
export function childPids(pid: number): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((candidate) => Number(statFields(candidate)?.[1]) === pid);
}

/** CPU seconds of `pid`, its reaped children and its live children (user + system). */
export function treeCpuSeconds(pid: number): number {
  const own = statFields(pid);
  if (!own) return Number.NaN;
  // Fields after comm: [0] state, [1] ppid, … [11] utime, [12] stime, [13] cutime, [14] cstime.
  const ticks = (fields: string[]) => Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  const live = childPids(pid).reduce((sum, child) => sum + ticks(statFields(child) ?? ["0"]), 0);
  return (ticks(own) + live) / TICKS_PER_SECOND;
}

/** RSS of `pid` plus that of its direct children, bytes. */
export function treeRssBytes(pid: number): number {
  return childPids(pid).reduce((sum, child) => sum + (rssBytes(child) || 0), rssBytes(pid));
}

/** Waits until `pid` has no children left (websockify reaps each connection's process on SIGCHLD). */
export function childrenReaped(pid: number): Promise<void> {
  return waitFor(() => childPids(pid).length === 0, 10_000, `the children of ${pid} to be reaped`, 20);
}

function forkWithMessage<T>(child: ChildProcess, what: string, accept: (message: unknown) => T | null): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 10 s`)), 10_000);
    child.once("exit", (code) => reject(new Error(`${what} exited (${code})`)));
    child.on("message", (message) => {
      const value = accept(message);
      if (value === null) return;
      clearTimeout(timer);
      resolve(value);
    });
  });
}

export async function startTcpEndpoints(flood: { maxBytes: number; maxMs: number }): Promise<{ pid: number; echoPort: number; floodPort: number; nextFlood(): Promise<FloodReport>; stop(): Promise<void> }> {
  const child = fork(join(import.meta.dirname, "tcp-endpoints.ts"), [String(flood.maxBytes), String(flood.maxMs)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const floodWaiters: Array<(report: FloodReport) => void> = [];
  child.on("message", (message: TcpEndpointsMessage) => {
    if (message.type === "flood") floodWaiters.shift()?.(message);
  });
  const ports = await forkWithMessage(child, "the TCP endpoints", (message) => ((message as TcpEndpointsMessage).type === "listening" ? (message as Extract<TcpEndpointsMessage, { type: "listening" }>) : null));
  return {
    pid: child.pid as number,
    echoPort: ports.echoPort,
    floodPort: ports.floodPort,
    nextFlood: () => new Promise((resolve) => floodWaiters.push(resolve)),
    stop: async () => {
      if (child.connected) child.send("stop");
      await stopChild(child, 3_000, null);
    },
  };
}

export async function startGatewayProcess(options: GatewayProcessOptions): Promise<ServerProcess> {
  const child = fork(join(import.meta.dirname, "gateway-process.ts"), [JSON.stringify(options)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const { port } = await forkWithMessage(child, "the gateway", (message) => ((message as GatewayProcessMessage).type === "listening" ? (message as GatewayProcessMessage) : null));
  return {
    pid: child.pid as number,
    port,
    stop: async () => {
      if (child.connected) child.send("stop");
      await stopChild(child, 5_000, null);
    },
  };
}

/** websockify in front of 127.0.0.1:`targetPort`; null when the Debian package is not installed. */
export async function startWebsockify(targetPort: number): Promise<(ServerProcess & { version: string }) | null> {
  if (!existsSync(WEBSOCKIFY_PATH)) return null;
  const port = await freePort();
  const child = spawn(WEBSOCKIFY_PATH, [`127.0.0.1:${port}`, `127.0.0.1:${targetPort}`], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4000)));
  const stop = () => stopChild(child, 5_000);
  try {
    await waitFor(() => portOpen(port), 10_000, `websockify on port ${port}`, 50);
  } catch {
    await stop();
    throw new Error(`websockify did not listen on ${port}: ${stderr}`);
  }
  return { pid: child.pid as number, port, version: websockifyVersion(), stop };
}

/** The version pinned in Debian's entry script (`websockify==0.10.0`). */
function websockifyVersion(): string {
  try {
    const text = readFileSync(WEBSOCKIFY_PATH, "utf8");
    return /websockify==([\d.]+)/.exec(text)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}
