/**
 * `npm start`: a local broker under `wrangler dev` (live reload, scripts/wrangler-dev.ts) with
 * its embedded D1 and Durable Objects, three demo agents on this machine heartbeating into the
 * `default` pool (each with a small demo desktop behind it, RFB for noVNC: scripts/demo-origin.ts),
 * two demo users and a `demo` profile, and a printout that starts with the portal's URL. Agents,
 * admin calls and waits go through the test harness (test/harness/). Each demo agent's pid is in `.wrangler/demo/<host>/agent.pid` while
 * it runs. Ctrl-C stops everything it started.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentHandle, enrolAgent } from "../test/harness/agents.ts";
import { adminCall, type BrokerEndpoint, listServers, type ServerState } from "../test/harness/client.ts";
import { waitFor } from "../test/harness/wait.ts";
import { ROOT } from "../test/harness/worker.ts";
import { type DemoOrigin, startDemoOrigin } from "./demo-origin.ts";
import { startWranglerDev, type WranglerDevBroker } from "./wrangler-dev.ts";

const port = Number(process.env["PORT"] ?? 8787);
const demoDir = join(ROOT, ".wrangler", "demo");
const demoIntervalMs = 2000;

const DEMO_NODES = [
  { hostname: "demo-1", staticData: { site: "lab", gpu: false, maxSessions: 20 } },
  { hostname: "demo-2", staticData: { site: "lab", gpu: true, maxSessions: 8 } },
  {
    hostname: "demo-3",
    staticData: { site: "annex", gpu: false, maxSessions: 20 },
    sessions: [{ id: "demo-3-alice-1", user: "alice", state: "suspended" as const, startedAt: Date.now() - 3_600_000 }],
  },
];

const DEMO_USERS = [
  { login: "alice", groups: ["staff"] },
  { login: "bob", groups: ["students"] },
];

async function ensureDemoUsers(broker: BrokerEndpoint): Promise<Array<{ login: string; password: string }>> {
  const created: Array<{ login: string; password: string }> = [];
  for (const user of DEMO_USERS) {
    const password = randomBytes(9).toString("base64url");
    await adminCall(broker, `/v1/admin/users/${user.login}`, "DELETE").catch(() => undefined);
    await adminCall(broker, "/v1/admin/users", "POST", { ...user, password });
    created.push({ login: user.login, password });
  }
  return created;
}

async function ensureDemoProfile(broker: BrokerEndpoint): Promise<void> {
  const profile = { name: "Demo desktop", pool: "default", mode: "relay", command: "XFCE", acl: {}, x2goOptions: { sshport: 22 } };
  await adminCall(broker, "/v1/admin/profiles/demo", "PUT", profile).catch(() => adminCall(broker, "/v1/admin/profiles", "POST", { id: "demo", ...profile }));
}

const pidFile = (hostname: string) => join(demoDir, hostname, "agent.pid");

/** What is running, and commands to paste: the admin API, a relayed session's greeting, the user's sessions, pyhoca-cli. */
function printTryCommands(broker: BrokerEndpoint, servers: ServerState[], users: Array<{ login: string; password: string }>): void {
  const [alice] = users;
  if (!alice) throw new Error("no demo user");
  const login = `'{"login":"${alice.login}","password":"${alice.password}"}'`;
  console.log(`
Portal: ${broker.url}/   sign in as ${alice.login} (password ${alice.password}) and Start "Demo desktop": a demo desktop opens in the browser

The broker is up at ${broker.url} with ${servers.length} demo servers (heartbeat every ${demoIntervalMs} ms):
${servers.map((s) => `  ${s.hostname.padEnd(8)} ${s.serverId}  ${s.status.padEnd(8)} ${JSON.stringify(s.staticData)}`).join("\n")}

Admin token for this run (in .wrangler/demo/admin-token):
  ${broker.adminToken}
Demo users (profile "demo", relay mode):
${users.map((user) => `  ${user.login.padEnd(6)} password ${user.password}`).join("\n")}

Dashboard: ${broker.url}/admin (sign in with the admin token)   API reference: ${broker.url}/docs

Try:
  # the servers, as the admin
  ADMIN_TOKEN=$(cat .wrangler/demo/admin-token)
  curl -s -H "Authorization: Bearer $ADMIN_TOKEN" ${broker.url}/v1/admin/pools/default/servers

  # sign in as ${alice.login}, start a session, open it through the relay: prints the demo desktop's greeting
  npm run demo:connect -- --broker ${broker.url} --login ${alice.login} --password '${alice.password}'

  # ${alice.login}'s sessions, cluster-wide (a user token, not the admin's)
  USER_TOKEN=$(curl -s -H 'Content-Type: application/json' -d ${login} ${broker.url}/v1/auth/login | sed 's/.*"token":"\\([^"]*\\)".*/\\1/')
  curl -s -H "Authorization: Bearer $USER_TOKEN" ${broker.url}/v1/sessions

  # X2Go's JSON broker protocol
  pyhoca-cli --broker-url http://${alice.login}@${new URL(broker.url).host}/json/ --broker-password '${alice.password}' --list-profiles

  # stop one demo node: it shows "down" within ${(3 * demoIntervalMs) / 1000} s
  kill "$(cat .wrangler/demo/demo-1/agent.pid)"

Logs: .wrangler/demo/wrangler.log and .wrangler/demo/<host>.log. Ctrl-C stops everything.`);
}

async function main(): Promise<void> {
  mkdirSync(demoDir, { recursive: true });
  const adminToken = `local-${randomBytes(18).toString("base64url")}`;
  writeFileSync(join(demoDir, "admin-token"), `${adminToken}\n`, { mode: 0o600 });
  console.log(`starting the broker on http://127.0.0.1:${port} (wrangler dev, log: .wrangler/demo/wrangler.log) …`);
  const broker: WranglerDevBroker = await startWranglerDev({
    port,
    persistTo: join(ROOT, ".wrangler", "state"),
    adminToken,
    signingKey: randomBytes(32).toString("base64url"),
    logFile: join(demoDir, "wrangler.log"),
  });
  const agents: AgentHandle[] = [];
  const origins: DemoOrigin[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping the demo agents and the broker …");
    await Promise.all(agents.map((agent) => agent.stop()));
    for (const agent of agents) rmSync(pidFile(agent.hostname), { force: true });
    await Promise.all(origins.map((origin) => origin.close()));
    await broker.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  let users: Array<{ login: string; password: string }>;
  try {
    await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs: demoIntervalMs });
    for (const node of DEMO_NODES) {
      const origin = await startDemoOrigin(node.hostname, { sessionsFile: join(demoDir, node.hostname, "sessions.json"), sessions: node.sessions ?? [] });
      origins.push(origin);
      const agent = await enrolAgent(broker, { ...node, originUrl: origin.url, dir: join(demoDir, node.hostname), logFile: join(demoDir, `${node.hostname}.log`) });
      agent.start();
      agents.push(agent);
      writeFileSync(pidFile(node.hostname), `${agent.pid}\n`);
    }
    users = await ensureDemoUsers(broker);
    await ensureDemoProfile(broker);
    await waitFor(async () => (await listServers(broker)).filter((s) => s.status === "up").length >= DEMO_NODES.length, 15_000, "three up servers", 200);
  } catch (error) {
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
    return;
  }
  printTryCommands(broker, await listServers(broker), users);
}

await main();
