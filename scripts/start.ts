/**
 * `npm start`: a local broker under `wrangler dev` with its embedded D1 and Durable Objects,
 * three demo agents on this machine heartbeating into the `default` pool, and a printout of
 * where to look. Ctrl-C stops everything it started.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { adminCall, type AgentHandle, enrolAgent, listServers, ROOT, startBroker, waitFor } from "./local-cluster.ts";

const port = Number(process.env.PORT ?? 8787);
const demoDir = join(ROOT, ".wrangler", "demo");
const demoIntervalMs = 2000;

const DEMO_NODES = [
  { hostname: "demo-1", staticData: { site: "lab", gpu: false, maxSessions: 20 } },
  { hostname: "demo-2", staticData: { site: "lab", gpu: true, maxSessions: 8 } },
  {
    hostname: "demo-3",
    staticData: { site: "annex", gpu: false, maxSessions: 20 },
    sessions: [{ id: "demo-3-alice-1", user: "alice", state: "suspended", startedAt: Date.now() - 3_600_000 }],
  },
];

async function main(): Promise<void> {
  mkdirSync(demoDir, { recursive: true });
  const adminToken = `local-${randomBytes(18).toString("base64url")}`;
  writeFileSync(join(demoDir, "admin-token"), `${adminToken}\n`, { mode: 0o600 });
  console.log(`starting the broker on http://127.0.0.1:${port} (wrangler dev, log: .wrangler/demo/wrangler.log) …`);
  const broker = await startBroker({
    port,
    persistTo: join(ROOT, ".wrangler", "state"),
    adminToken,
    logFile: join(demoDir, "wrangler.log"),
  });
  const agents: AgentHandle[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping the demo agents and the broker …");
    await Promise.all(agents.map((agent) => agent.stop()));
    await broker.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  try {
    await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs: demoIntervalMs });
    for (const node of DEMO_NODES) {
      const agent = await enrolAgent(broker, { ...node, dir: join(demoDir, node.hostname), logFile: join(demoDir, `${node.hostname}.log`) });
      agent.start();
      agents.push(agent);
    }
    await waitFor(async () => (await listServers(broker)).filter((s) => s.status === "up").length >= DEMO_NODES.length, 15_000, "three up servers");
  } catch (error) {
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
    return;
  }

  const servers = await listServers(broker);
  console.log(`
The broker is up at ${broker.url} with ${servers.length} demo servers (heartbeat every ${demoIntervalMs} ms):
${servers.map((s) => `  ${s.hostname.padEnd(8)} ${s.serverId}  ${s.status.padEnd(8)} ${JSON.stringify(s.staticData)}`).join("\n")}

Admin token for this run (also in .wrangler/demo/admin-token):
  ${adminToken}

Try:
  curl -s -H "Authorization: Bearer ${adminToken}" ${broker.url}/v1/admin/pools/default/servers
  curl -s -X POST -H "Authorization: Bearer ${adminToken}" ${broker.url}/v1/admin/pools/default/servers/${agents[0]?.serverId}/drain

Agent logs: .wrangler/demo/<host>.log. Stop a demo agent (pkill -f demo-1/agent.json) and it shows
"down" within ${3 * demoIntervalMs / 1000} s. Ctrl-C stops everything.`);
}

await main();
