/**
 * A launching cluster on this machine (root only), for the session e2e suites and the
 * start-latency bench: the local broker (test/harness), and one real agent process
 * (`agent/main.ts run`) running as the unprivileged `edge-agent`, with its node gateway as the
 * node's origin and `launchers: { dir: agent/launchers }`. The shipped sudoers rule is installed
 * for this checkout's helper, so the agent's launchers can start desktops as the users and do
 * nothing else as root. Profiles, users and (optionally) the single-node Slurm are the caller's.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { type AgentHandle, enrolAgent } from "../harness/agents.ts";
import { type LocalBroker, startBroker } from "../harness/broker.ts";
import { adminCall, signIn } from "../harness/client.ts";
import { freePort } from "../harness/ports.ts";
import { waitFor } from "../harness/wait.ts";
import { ensureAgentUser, ensureUser, installSudoersRule, LAUNCHERS_DIR, requireRoot } from "./node-accounts.ts";
import { REPO_ROOT } from "./suite.ts";

const execFileAsync = promisify(execFile);

export const NODE_HOSTNAME = "e2e-launch-node";

export interface LaunchCluster {
  broker: LocalBroker;
  agent: AgentHandle;
  /** ws://127.0.0.1:PORT/, the agent's node gateway (the node's origin). */
  gatewayUrl: string;
  /** The agent's log (its stdout and stderr). */
  agentLog: string;
  /** The pool's heartbeat interval. */
  intervalMs: number;
  /** Creates a broker user with a local account on this node (both reused if they exist); their bearer token. */
  addUser(login: string): Promise<string>;
  /** Creates a relay profile in the default pool that starts sessions with `launcher`. */
  addProfile(id: string, launcher: { name: string; params: Record<string, unknown> }): Promise<void>;
  stop(): Promise<void>;
}

export interface LaunchClusterOptions {
  /** Everything (broker state, the agent's directory, logs) goes here; made traversable for edge-agent. */
  dir: string;
  /** Pool heartbeat interval, ms (default 1000). */
  intervalMs?: number;
  /** Extra keys of the agent's `launchers` section (e.g. `statusIntervalMs`). */
  launchers?: Record<string, unknown>;
}

/** The password every broker user of these suites gets (loopback-only brokers, throw-away state). */
export const userPassword = (login: string) => `${login}-launch-password-1`;

export async function startLaunchCluster(options: LaunchClusterOptions): Promise<LaunchCluster> {
  requireRoot();
  const intervalMs = options.intervalMs ?? 1000;
  const steps: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const step of steps.splice(0).reverse()) await Promise.resolve(step()).catch(() => undefined);
  };
  try {
    const agentIds = await ensureAgentUser();
    steps.push(await installSudoersRule());
    // mkdtemp makes the suite's directory 0700: edge-agent must pass through it to its own.
    chmodSync(options.dir, 0o711);
    const broker = await startBroker({ port: await freePort(), logFile: join(options.dir, "broker.log") });
    steps.push(() => broker.stop());
    await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs });
    const gatewayPort = await freePort();
    const agentDir = join(options.dir, "agent");
    mkdirSync(agentDir, { recursive: true });
    const agentLog = join(options.dir, "agent.log");
    const agent = await enrolAgent(broker, {
      hostname: NODE_HOSTNAME,
      dir: agentDir,
      staticData: {},
      originUrl: `http://127.0.0.1:${gatewayPort}/`,
      logFile: agentLog,
      gateway: { listen: `127.0.0.1:${gatewayPort}`, maxConnections: 20 },
      launchers: { dir: LAUNCHERS_DIR, ...options.launchers },
      runAs: agentIds,
    });
    // `enroll` ran as root (this process); the running agent is edge-agent and owns its state.
    await execFileAsync("chown", ["-R", `${agentIds.uid}:${agentIds.gid}`, agentDir]);
    agent.start();
    steps.push(() => agent.stop());
    await waitFor(
      async () => {
        const { servers } = await adminCall<{ servers: Array<{ status: string; channelConnected: boolean }> }>(broker, "/v1/admin/pools/default/servers");
        return servers.length === 1 && servers[0]?.status === "up" && servers[0].channelConnected;
      },
      30_000,
      "the agent up with its control channel open",
      100,
    );
    return {
      broker,
      agent,
      gatewayUrl: `ws://127.0.0.1:${gatewayPort}/`,
      agentLog,
      intervalMs,
      async addUser(login) {
        await ensureUser(login);
        const password = userPassword(login);
        await adminCall(broker, "/v1/admin/users", "POST", { login, password });
        return signIn(broker, login, password);
      },
      async addProfile(id, launcher) {
        await adminCall(broker, "/v1/admin/profiles", "POST", { id, name: id, pool: "default", mode: "relay", maxSessionsPerUser: 100, launcher });
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The e2e desktops' session command (fixtures/solid-desktop): one solid colour, chosen by the user's login. */
export const SOLID_DESKTOP = join(REPO_ROOT, "test", "e2e", "fixtures", "solid-desktop");
/** The colours it paints, 0xRRGGBB; anyone else's desktop is OTHER. */
export const DESKTOP_COLOURS = { alice: 0xc02020, bob: 0x2040c0, other: 0x808020 } as const;
