/**
 * The local broker (test/harness: one workerd, persisted D1 and Durable Objects) with real agent processes:
 * they enrol, heartbeat, go down when killed and come back when restarted. Loopback only.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentHandle, enrolAgent } from "../harness/agents.ts";
import { type LocalBroker, scratchBrokerOptions, startBroker } from "../harness/broker.ts";
import { adminCall, listServers } from "../harness/client.ts";
import { waitFor } from "../harness/wait.ts";

const INTERVAL_MS = 1000;


let workDir: string;
let broker: LocalBroker;
const agents: AgentHandle[] = [];

async function statusOf(serverId: string): Promise<string | undefined> {
  return (await listServers(broker)).find((server) => server.serverId === serverId)?.status;
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "broker-it-"));
  broker = await startBroker(await scratchBrokerOptions(workDir));
  await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs: INTERVAL_MS });
  for (const [index, staticData] of [{ gpu: false }, { gpu: true }, { gpu: false, maxSessions: 4 }].entries()) {
    const hostname = `it-node-${index + 1}`;
    const agent = await enrolAgent(broker, {
      hostname,
      dir: join(workDir, hostname),
      staticData,
      sessions: [{ id: `${hostname}-s1`, user: "alice", state: "suspended", startedAt: 1_700_000_000_000 }],
      logFile: join(workDir, `${hostname}.log`),
    });
    agents.push(agent);
  }
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop("SIGKILL")));
  await broker?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe("a local cluster of real agents", () => {
  it("enrols three agents that show up, with their static data and sessions", async () => {
    const enrolled = await listServers(broker);
    expect(enrolled.map((server) => server.hostname).sort()).toEqual(["it-node-1", "it-node-2", "it-node-3"]);
    for (const agent of agents) agent.start();
    await waitFor(async () => (await listServers(broker)).every((server) => server.status === "up"), 15_000, "three up servers");
    const servers = await listServers(broker);
    expect(servers.find((server) => server.hostname === "it-node-2")?.staticData).toMatchObject({ gpu: true });
    expect(servers.every((server) => server.sessionCount === 1)).toBe(true);
  });

  it("marks a killed agent down within 3 intervals (plus one for the alarm) and keeps the others up", async () => {
    const victim = agents[0] as AgentHandle;
    await victim.stop("SIGKILL");
    const killedAt = Date.now();
    await waitFor(async () => (await statusOf(victim.serverId)) === "down", 4 * INTERVAL_MS + 2000, "the killed node to go down");
    expect(Date.now() - killedAt).toBeLessThanOrEqual(4 * INTERVAL_MS + 2000);
    expect(await statusOf((agents[1] as AgentHandle).serverId)).toBe("up");
    expect(await statusOf((agents[2] as AgentHandle).serverId)).toBe("up");
  });

  it("brings a restarted agent back up", async () => {
    const victim = agents[0] as AgentHandle;
    victim.start();
    await waitFor(async () => (await statusOf(victim.serverId)) === "up", 10_000, "the restarted node to come back");
  });

  it("an agent stops cleanly on SIGTERM within its deadline", async () => {
    const agent = agents[2] as AgentHandle;
    const started = Date.now();
    await agent.stop("SIGTERM");
    expect(agent.running).toBe(false);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("refuses a second enrolment with a spent token", async () => {
    const { token } = await adminCall<{ token: string }>(broker, "/v1/admin/pools/default/enrolment-tokens", "POST", { ttlSeconds: 600 });
    const body = { token, publicKey: { kty: "OKP", crv: "Ed25519", x: "A".repeat(43) }, hostname: "it-extra", originUrl: "http://127.0.0.1:1" };
    const first = await fetch(`${broker.url}/v1/agent/enrol`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect(first.status).toBe(201);
    const second = await fetch(`${broker.url}/v1/agent/enrol`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ...body, hostname: "it-extra-2" }) });
    expect(second.status).toBe(401);
  });
});
