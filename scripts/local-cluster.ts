/**
 * Starts a local broker under `wrangler dev` (embedded D1 and Durable Objects) and real agent
 * processes on this machine. Shared by `npm start` and the integration tests. Loopback only.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, openSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
export const ROOT = join(import.meta.dirname, "..");
const BIN = join(ROOT, "node_modules", ".bin");

export interface LocalBroker {
  url: string;
  adminToken: string;
  stop(): Promise<void>;
}

export interface BrokerOptions {
  port: number;
  /** Where wrangler keeps local D1/DO state; tests use a fresh temp dir. */
  persistTo: string;
  adminToken: string;
  /** Key for broker-signed JWTs (user sessions, relay tickets), ≥ 32 chars. */
  signingKey: string;
  /** wrangler's output goes here. */
  logFile: string;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function stopProcess(child: ChildProcess, timeoutMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export async function startBroker(options: BrokerOptions): Promise<LocalBroker> {
  const env = { ...process.env, PATH: `${BIN}:${process.env.PATH ?? ""}`, WRANGLER_SEND_METRICS: "false" };
  await execFileAsync(join(BIN, "wrangler"), ["d1", "migrations", "apply", "DB", "--local", "--persist-to", options.persistTo], {
    cwd: ROOT,
    env: { ...env, CI: "true" },
  });
  const log = openSync(options.logFile, "a");
  const child = spawn(
    join(BIN, "wrangler"),
    [
      "dev",
      "--ip", "127.0.0.1",
      "--port", String(options.port),
      "--persist-to", options.persistTo,
      "--var", `ADMIN_TOKEN:${options.adminToken}`,
      "--var", `SIGNING_KEY:${options.signingKey}`,
      "--show-interactive-dev-session=false",
      "--log-level", "warn",
    ],
    { cwd: ROOT, env, stdio: ["ignore", log, log], detached: true },
  );
  const url = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    // wrangler starts workerd as a child; signal the whole process group.
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    await stopProcess(child);
  };
  try {
    await waitFor(async () => (await fetch(`${url}/health`)).ok, 90_000, `wrangler dev on ${url} (log: ${options.logFile})`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, adminToken: options.adminToken, stop };
}

export async function adminCall<T = unknown>(broker: LocalBroker, path: string, method = "GET", body?: unknown): Promise<T> {
  const response = await fetch(`${broker.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${broker.adminToken}`, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface ServerState {
  serverId: string;
  hostname: string;
  status: string;
  lastSeenAt: number | null;
  sessionCount: number;
  staticData: Record<string, unknown>;
}

export async function listServers(broker: LocalBroker, pool = "default"): Promise<ServerState[]> {
  return (await adminCall<{ servers: ServerState[] }>(broker, `/v1/admin/pools/${pool}/servers`)).servers;
}

export interface DemoAgentOptions {
  hostname: string;
  /** A directory of its own: config, key, state, static data. */
  dir: string;
  pool?: string;
  staticData: Record<string, unknown>;
  /** Sessions the demo node reports (the `command` session source prints them). */
  sessions?: unknown[];
  originUrl?: string;
  logFile: string;
}

export interface AgentHandle {
  hostname: string;
  serverId: string;
  configPath: string;
  /** Starts (or restarts) `agent run`. */
  start(): void;
  /** Stops `agent run` with the given signal and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  readonly running: boolean;
}

/** Writes a demo agent's config, enrols it with a fresh token and returns a handle to run it. */
export async function enrolAgent(broker: LocalBroker, options: DemoAgentOptions): Promise<AgentHandle> {
  mkdirSync(options.dir, { recursive: true });
  const staticDataFile = join(options.dir, "static.json");
  const sessionsFile = join(options.dir, "sessions.json");
  writeFileSync(staticDataFile, JSON.stringify(options.staticData, null, 2));
  writeFileSync(sessionsFile, JSON.stringify({ sessions: options.sessions ?? [] }));
  const configPath = join(options.dir, "agent.json");
  writeFileSync(
    configPath,
    JSON.stringify(
      {
        brokerUrl: broker.url,
        stateDir: join(options.dir, "state"),
        hostname: options.hostname,
        // Origins are unique per node: a path of its own on the default origin.
        originUrl: options.originUrl ?? `http://127.0.0.1:6080/${options.hostname}`,
        sessionSource: { type: "command", command: `cat ${JSON.stringify(sessionsFile)}` },
        staticDataFile,
        requestTimeoutMs: 3000,
        maxBackoffMs: 5000,
        shutdownTimeoutMs: 2000,
      },
      null,
      2,
    ),
  );
  const pool = options.pool ?? "default";
  // Local nodes have loopback origins, which a pool must allow (production pools list their
  // tunnel hostnames instead); local nodes need no approval.
  await adminCall(broker, `/v1/admin/pools/${pool}`, "PATCH", { allowPrivateOrigins: true });
  const { token } = await adminCall<{ token: string }>(broker, `/v1/admin/pools/${pool}/enrolment-tokens`, "POST", { ttlSeconds: 600, preApproved: true });
  const agentMain = join(ROOT, "agent", "main.ts");
  const { stdout } = await execFileAsync(process.execPath, [agentMain, "enroll", "--config", configPath, "--token", token], { cwd: ROOT });
  const serverId = stdout.trim();
  let child: ChildProcess | null = null;
  const isRunning = () => child !== null && child.exitCode === null && child.signalCode === null;
  return {
    hostname: options.hostname,
    serverId,
    configPath,
    get running() {
      return isRunning();
    },
    start() {
      if (isRunning()) return;
      const log = openSync(options.logFile, "a");
      child = spawn(process.execPath, [agentMain, "run", "--config", configPath], { cwd: ROOT, stdio: ["ignore", log, log] });
    },
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (!child) return;
      const running = child;
      if (signal === "SIGKILL") running.kill("SIGKILL");
      await stopProcess(running, signal === "SIGKILL" ? 100 : 5000);
    },
  };
}

/** A loopback port the OS says is free now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Options for a throw-away broker: a free port, fresh secrets, state and log under `dir`. */
export async function scratchBrokerOptions(dir: string): Promise<BrokerOptions> {
  return {
    port: await freePort(),
    persistTo: join(dir, "state"),
    adminToken: `scratch-admin-${crypto.randomUUID()}`,
    signingKey: `scratch-signing-${crypto.randomUUID()}`,
    logFile: join(dir, "wrangler.log"),
  };
}

export { waitFor };
