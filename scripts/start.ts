/**
 * `npm start`: a local broker under `wrangler dev` (live reload, scripts/wrangler-dev.ts) with
 * its embedded D1 and Durable Objects, and the demo cluster (scripts/demo-cluster.ts): three
 * demo agents on this machine heartbeating into the `default` pool, each with its node gateway
 * and the shipped launchers, so a start of the `demo` profile launches a demo desktop process on
 * a node (RFB for noVNC); two demo users; and a printout that starts with the portal's URL. Each
 * demo agent's pid is in `.wrangler/demo/<host>/agent.pid` while it runs. Ctrl-C stops
 * everything it started, the demo desktops included.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BrokerEndpoint, listServers, type ServerState } from "../test/harness/client.ts";
import { ROOT } from "../test/harness/worker.ts";
import { type DemoCluster, type DemoUser, startDemoCluster } from "./demo-cluster.ts";
import { startWranglerDev, type WranglerDevBroker } from "./wrangler-dev.ts";

const port = Number(process.env["PORT"] ?? 8787);
const demoDir = join(ROOT, ".wrangler", "demo");
const demoIntervalMs = 2000;

/** What is running, and commands to paste: the admin API, a relayed session's greeting, the user's sessions, terminate, pyhoca-cli. */
function printTryCommands(broker: BrokerEndpoint, servers: ServerState[], users: DemoUser[]): void {
  const [alice] = users;
  if (!alice) throw new Error("no demo user");
  const login = `'{"login":"${alice.login}","password":"${alice.password}"}'`;
  console.log(`
Portal: ${broker.url}/   sign in as ${alice.login} (password ${alice.password}) and Start "Demo desktop": a demo desktop starts on a node and opens in the browser

The broker is up at ${broker.url} with ${servers.length} demo servers (heartbeat every ${demoIntervalMs} ms):
${servers.map((s) => `  ${s.hostname.padEnd(8)} ${s.serverId}  ${s.status.padEnd(8)} ${JSON.stringify(s.staticData)}`).join("\n")}

Admin token for this run (in .wrangler/demo/admin-token):
  ${broker.adminToken}
Demo users (profile "demo": relay mode, launcher "demo"):
${users.map((user) => `  ${user.login.padEnd(6)} password ${user.password}`).join("\n")}
A start launches a demo desktop process on the chosen node (agent/launchers/demo); closing it leaves the
session suspended, the next start resumes it, Terminate (or DELETE /v1/sessions/:id) ends it.

Dashboard: ${broker.url}/admin (sign in with the admin token)   API reference: ${broker.url}/docs

Try:
  # the servers, as the admin
  ADMIN_TOKEN=$(cat .wrangler/demo/admin-token)
  curl -s -H "Authorization: Bearer $ADMIN_TOKEN" ${broker.url}/v1/admin/pools/default/servers

  # sign in as ${alice.login}, start (or resume) a session, open it through the relay: prints the demo desktop's greeting
  npm run demo:connect -- --broker ${broker.url} --login ${alice.login} --password '${alice.password}'

  # ${alice.login}'s sessions, cluster-wide (a user token, not the admin's), and ending one
  USER_TOKEN=$(curl -s -H 'Content-Type: application/json' -d ${login} ${broker.url}/v1/auth/login | sed 's/.*"token":"\\([^"]*\\)".*/\\1/')
  curl -s -H "Authorization: Bearer $USER_TOKEN" ${broker.url}/v1/sessions
  curl -s -X DELETE -H "Authorization: Bearer $USER_TOKEN" ${broker.url}/v1/sessions/SESSION_ID   # an id from the list

  # X2Go's JSON broker protocol
  pyhoca-cli --broker-url http://${alice.login}@${new URL(broker.url).host}/json/ --broker-password '${alice.password}' --list-profiles

  # stop one demo node: it shows "down" within ${(3 * demoIntervalMs) / 1000} s
  kill "$(cat .wrangler/demo/demo-1/agent.pid)"

Logs: .wrangler/demo/wrangler.log and .wrangler/demo/<host>.log. Ctrl-C stops everything, the demo desktops included.`);
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
  let cluster: DemoCluster | null = null;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping the demo agents, their desktops and the broker …");
    await cluster?.stop();
    await broker.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  try {
    cluster = await startDemoCluster(broker, { dir: demoDir, intervalMs: demoIntervalMs });
  } catch (error) {
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
    return;
  }
  const ours = new Set(cluster.agents.map((agent) => agent.serverId));
  printTryCommands(broker, (await listServers(broker)).filter((server) => ours.has(server.serverId)), cluster.users);
}

await main();
