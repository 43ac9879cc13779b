/**
 * `npm start`'s demo cluster on a running broker: three real agents on this machine in the
 * `default` pool, each with its node gateway on a loopback port (the node's origin: the relay
 * reaches it there, as cloudflared would) and the shipped launchers (`agent/launchers`); two demo
 * users and a `demo` profile whose launcher is `demo`, so a start runs a demo desktop process on
 * the chosen node (RFB for noVNC, a greeting for other clients: agent/launchers/lib/demo-*.ts).
 * scripts/start.ts runs it under `wrangler dev`; test/integration/demo-start.test.ts on the
 * test harness's broker.
 */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readProcessIdentity, signalProcess } from "../agent/launch/node-launch-deps.ts";
import { killSessionProcesses } from "../agent/launch/session-processes.ts";
import { createSessionStore } from "../agent/launch/session-store.ts";
import { nodeFileAccess } from "../agent/node-deps.ts";
import { type AgentHandle, enrolAgent } from "../test/harness/agents.ts";
import { adminCall, type BrokerEndpoint, listServers } from "../test/harness/client.ts";
import { freePort } from "../test/harness/ports.ts";
import { waitFor } from "../test/harness/wait.ts";
import { ROOT } from "../test/harness/worker.ts";

export const DEMO_PROFILE_ID = "demo";
export const LAUNCHERS_DIR = join(ROOT, "agent", "launchers");

const DEMO_NODES = [
  { hostname: "demo-1", staticData: { site: "lab", gpu: false, maxSessions: 20 } },
  { hostname: "demo-2", staticData: { site: "lab", gpu: true, maxSessions: 8 } },
  { hostname: "demo-3", staticData: { site: "annex", gpu: false, maxSessions: 20 } },
];

const DEMO_USERS = [
  { login: "alice", groups: ["staff"] },
  { login: "bob", groups: ["students"] },
];

export interface DemoUser {
  login: string;
  password: string;
}

export interface DemoCluster {
  agents: AgentHandle[];
  /** The demo users with this run's passwords. */
  users: DemoUser[];
  /** Stops the agents, then ends the demo desktops they launched (desktops outlive their agent). */
  stop(): Promise<void>;
}

export interface DemoClusterOptions {
  /** Per node: `<dir>/<host>/` (config, state, `agent.pid`) and `<dir>/<host>.log`. */
  dir: string;
  /** The pool's heartbeat interval. */
  intervalMs: number;
}

const pidFile = (dir: string, hostname: string) => join(dir, hostname, "agent.pid");

const timers = {
  setTimer: (callback: () => void, delayMs: number) => setTimeout(callback, delayMs),
  clearTimer: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Ends what a stopped agent left running, the way the agent ends a session whose launcher's stop
 * failed: the desktop's process group, only while its leader is still the process it recorded.
 */
async function endLaunchedDesktops(stateDir: string): Promise<void> {
  const store = createSessionStore(stateDir, { fs: nodeFileAccess, log: (line) => console.error(line), now: Date.now });
  const deps = { ...timers, processIdentity: (pid: number) => readProcessIdentity(pid), signal: signalProcess };
  const sessions = await store.load();
  for (const session of sessions) {
    const ended = await killSessionProcesses(session, deps);
    if (!ended.ok) console.error(`demo session ${session.sessionId}: ${ended.error}`);
  }
  if (sessions.length > 0) await store.save([]);
}

async function ensureDemoUsers(broker: BrokerEndpoint): Promise<DemoUser[]> {
  const created: DemoUser[] = [];
  for (const user of DEMO_USERS) {
    const password = randomBytes(9).toString("base64url");
    await adminCall(broker, `/v1/admin/users/${user.login}`, "DELETE").catch(() => undefined);
    await adminCall(broker, "/v1/admin/users", "POST", { ...user, password });
    created.push({ login: user.login, password });
  }
  return created;
}

async function ensureDemoProfile(broker: BrokerEndpoint): Promise<void> {
  const profile = {
    name: "Demo desktop",
    pool: "default",
    mode: "relay",
    command: "XFCE",
    acl: {},
    x2goOptions: { sshport: 22 },
    launcher: { name: "demo", params: {} },
  };
  await adminCall(broker, `/v1/admin/profiles/${DEMO_PROFILE_ID}`, "PUT", profile).catch(() =>
    adminCall(broker, "/v1/admin/profiles", "POST", { id: DEMO_PROFILE_ID, ...profile }),
  );
}

/**
 * A broker that persists its state still holds the last run's demo nodes, and enrolment never
 * replaces a node (a hostname is claimed once): they are removed, and the desktops a crashed run
 * left behind ended, before this run's agents enrol under the same names.
 */
async function clearPreviousRun(broker: BrokerEndpoint, dir: string): Promise<void> {
  const names = new Set(DEMO_NODES.map((node) => node.hostname));
  for (const server of await listServers(broker)) {
    if (names.has(server.hostname)) await adminCall(broker, `/v1/admin/pools/default/servers/${server.serverId}`, "DELETE");
  }
  for (const hostname of names) await endLaunchedDesktops(join(dir, hostname, "state"));
}

/** Enrols and starts the demo agents, creates the users and the profile, waits until the three are up. */
export async function startDemoCluster(broker: BrokerEndpoint, options: DemoClusterOptions): Promise<DemoCluster> {
  const agents: AgentHandle[] = [];
  const stop = async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    for (const agent of agents) {
      rmSync(pidFile(options.dir, agent.hostname), { force: true });
      await endLaunchedDesktops(agent.stateDir);
    }
  };
  try {
    await clearPreviousRun(broker, options.dir);
    await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs: options.intervalMs });
    for (const node of DEMO_NODES) {
      const listen = `127.0.0.1:${await freePort()}`;
      const agent = await enrolAgent(broker, {
        ...node,
        // The gateway is the node's origin; the harness's pool allows loopback origins.
        originUrl: `http://${listen}/`,
        gateway: { listen },
        launchers: { dir: LAUNCHERS_DIR },
        sessionSource: { type: "none" },
        dir: join(options.dir, node.hostname),
        logFile: join(options.dir, `${node.hostname}.log`),
      });
      agent.start();
      agents.push(agent);
      writeFileSync(pidFile(options.dir, node.hostname), `${agent.pid}\n`);
    }
    const users = await ensureDemoUsers(broker);
    await ensureDemoProfile(broker);
    const ours = new Set(agents.map((agent) => agent.serverId));
    await waitFor(async () => (await listServers(broker)).filter((s) => ours.has(s.serverId) && s.status === "up").length === agents.length, 15_000, "three up servers", 200);
    return { agents, users, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
