/**
 * Real agent processes (`agent/main.ts`) on this machine: a config of their own, enrolled with a
 * fresh one-time token, then `agent run` started and stopped on demand. Their sessions come
 * from a JSON file (the `command` session source), so a test decides what a node reports.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { adminCall, type BrokerEndpoint, localEnrolmentToken } from "./client.ts";
import { stopChild } from "./proc.ts";

const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
const AGENT_MAIN = join(ROOT, "agent", "main.ts");

export interface AgentOptions {
  hostname: string;
  /** A directory of its own: config, key, state, static data. */
  dir: string;
  pool?: string;
  staticData: Record<string, unknown>;
  /** Sessions the node reports (the `command` session source prints them). */
  sessions?: unknown[];
  /** The node's desktop endpoint behind the relay; default `http://127.0.0.1:6080/<hostname>` (one per node: origins are unique). */
  originUrl?: string;
  /** `agent run` appends its output here. */
  logFile: string;
  /** The config's `gateway` section (agent/gateway/config.ts), as JSON; absent, the agent runs no gateway. */
  gateway?: Record<string, unknown>;
  /** The config's `launchers` section (agent/launch/config.ts), as JSON; absent, the node launches nothing. */
  launchers?: Record<string, unknown>;
  /** The config's `sessionSource` (e.g. `{ type: "x2go", command: … }`); default: the `sessions` file. */
  sessionSource?: Record<string, unknown>;
  /** Runs `agent run` as this user (root only), e.g. the unprivileged `edge-agent`; its `dir` must be theirs. */
  runAs?: { uid: number; gid: number };
}

export interface AgentHandle {
  hostname: string;
  serverId: string;
  configPath: string;
  /** The agent's state directory (`node.json` with the serverId and assertion key, the private key). */
  stateDir: string;
  /** Starts (or restarts) `agent run`. */
  start(): void;
  /** Stops `agent run` with the given signal and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  readonly running: boolean;
  /** The pid of `agent run` while it runs, else null. */
  readonly pid: number | null;
}

function writeAgentConfig(broker: BrokerEndpoint, options: AgentOptions): string {
  mkdirSync(options.dir, { recursive: true });
  const staticDataFile = join(options.dir, "static.json");
  const sessionsFile = join(options.dir, "sessions.json");
  writeFileSync(staticDataFile, JSON.stringify(options.staticData, null, 2));
  if (!options.sessionSource) writeFileSync(sessionsFile, JSON.stringify({ sessions: options.sessions ?? [] }));
  const configPath = join(options.dir, "agent.json");
  const config = {
    brokerUrl: broker.url,
    stateDir: join(options.dir, "state"),
    hostname: options.hostname,
    originUrl: options.originUrl ?? `http://127.0.0.1:6080/${encodeURIComponent(options.hostname)}`,
    sessionSource: options.sessionSource ?? { type: "command", command: `cat ${JSON.stringify(sessionsFile)}` },
    staticDataFile,
    requestTimeoutMs: 3000,
    maxBackoffMs: 5000,
    shutdownTimeoutMs: 2000,
    ...(options.gateway ? { gateway: options.gateway } : {}),
    ...(options.launchers ? { launchers: options.launchers } : {}),
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return configPath;
}

/** Writes an agent's config, enrols it with a fresh token and returns a handle to run it. */
export async function enrolAgent(broker: BrokerEndpoint, options: AgentOptions): Promise<AgentHandle> {
  const configPath = writeAgentConfig(broker, options);
  const pool = options.pool ?? "default";
  const token = await localEnrolmentToken(broker, pool);
  const { stdout } = await execFileAsync(process.execPath, [AGENT_MAIN, "enroll", "--config", configPath, "--token", token], { cwd: ROOT });
  const serverId = stdout.trim();
  let child: ChildProcess | null = null;
  const isRunning = () => child !== null && child.exitCode === null && child.signalCode === null;
  return {
    hostname: options.hostname,
    serverId,
    configPath,
    stateDir: join(options.dir, "state"),
    get running() {
      return isRunning();
    },
    get pid() {
      return isRunning() ? (child?.pid ?? null) : null;
    },
    start() {
      if (isRunning()) return;
      const log = openSync(options.logFile, "a");
      const user = options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {};
      child = spawn(process.execPath, [AGENT_MAIN, "run", "--config", configPath], { cwd: ROOT, stdio: ["ignore", log, log], ...user });
      closeSync(log);
    },
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child) await stopChild(child, signal === "SIGKILL" ? 100 : 5000, signal);
    },
  };
}
