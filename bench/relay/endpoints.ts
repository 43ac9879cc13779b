/**
 * The processes of the relay bench besides the broker: the node endpoint (a `ws` echo server in
 * its own Node process, echo-server.ts) and, where the Debian package is installed,
 * HAProxy as a second relay in front of it. Both listen on 127.0.0.1 only and are stopped by
 * the bench; HAProxy runs in the foreground (`-db`) from a config in a temporary directory.
 */
import { fork, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, portOpen } from "../../test/harness/ports.ts";
import { stopChild } from "../../test/harness/proc.ts";
import { waitFor } from "../../test/harness/wait.ts";
import type { EchoServerMessage } from "./echo-server.ts";

export const HAPROXY_PATH = "/usr/sbin/haproxy";

export interface FloodReport {
  acceptedBytes: number;
  acceptedAtHalfBytes: number;
  ms: number;
}

export interface EchoServer {
  port: number;
  pid: number;
  /** The report of the next `flood` command a client sends. */
  nextFlood(): Promise<FloodReport>;
  stop(): Promise<void>;
}

export async function startEchoServer(): Promise<EchoServer> {
  const child = fork(join(import.meta.dirname, "echo-server.ts"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const floodWaiters: Array<(report: FloodReport) => void> = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("echo server did not start within 10 s")), 10_000);
    child.once("exit", (code) => reject(new Error(`echo server exited (${code})`)));
    child.on("message", (message: EchoServerMessage) => {
      if (message.type === "listening") {
        clearTimeout(timer);
        resolve(message.port);
      } else if (message.type === "flood") {
        floodWaiters.shift()?.({ acceptedBytes: message.acceptedBytes, acceptedAtHalfBytes: message.acceptedAtHalfBytes, ms: message.ms });
      }
    });
  });
  return {
    port,
    pid: child.pid as number,
    nextFlood: () => new Promise((resolve) => floodWaiters.push(resolve)),
    stop: async () => {
      if (child.connected) child.send("stop");
      await stopChild(child, 3_000, null);
    },
  };
}

export interface Haproxy {
  port: number;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/**
 * HAProxy in `mode http` (it parses the upgrade, as the Worker does, then tunnels the bytes),
 * default thread count, generous timeouts so nothing times out inside the bench's bounds.
 * Null when HAProxy is not installed.
 */
export async function startHaproxy(backendPort: number): Promise<Haproxy | null> {
  if (!existsSync(HAPROXY_PATH)) return null;
  const dir = mkdtempSync(join(tmpdir(), "relay-bench-haproxy-"));
  const port = await freePort();
  const config = [
    "global",
    "  maxconn 4096",
    "defaults",
    "  mode http",
    "  timeout connect 5s",
    "  timeout client 30s",
    "  timeout server 30s",
    "  timeout tunnel 60s",
    "frontend relay",
    `  bind 127.0.0.1:${port}`,
    "  default_backend node",
    "backend node",
    `  server node 127.0.0.1:${backendPort}`,
    "",
  ].join("\n");
  const configPath = join(dir, "haproxy.cfg");
  writeFileSync(configPath, config);
  const version = await new Promise<string>((resolve) => {
    const probe = spawn(HAPROXY_PATH, ["-v"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    probe.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    probe.on("close", () => resolve(/version (\S+)/.exec(out)?.[1] ?? "unknown"));
    probe.on("error", () => resolve("unknown"));
  });
  const child = spawn(HAPROXY_PATH, ["-db", "-f", configPath], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-2000)));
  const stop = async () => {
    await stopChild(child, 3_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => portOpen(port), 5_000, `haproxy on port ${port}`, 50);
  } catch {
    await stop();
    throw new Error(`haproxy did not listen on ${port}: ${stderr}`);
  }
  return { port, pid: child.pid as number, version, stop };
}
