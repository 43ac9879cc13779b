/**
 * Agents that lose the broker for a while and come back: 20 real agent processes beat through
 * a TCP switch in this process to the local broker (test/harness). The switch is cut (every
 * connection dropped, the port closed), the broker is stopped and started again on its
 * persisted state meanwhile, and the switch is restored once the broker answers. Each agent's
 * full-jitter backoff (capped at a short maxBackoffMs here) must spread the reconnections over
 * the backoff window instead of bringing them back in one herd, and every node must be up
 * again. Loopback only; bounded by the timeouts below.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentHandle, enrolAgent } from "../harness/agents.ts";
import { type LocalBroker, type ScratchBrokerOptions, scratchBrokerOptions, startBroker } from "../harness/broker.ts";
import { adminCall, listServers } from "../harness/client.ts";
import { freePort } from "../harness/ports.ts";
import { waitFor } from "../harness/wait.ts";
import { TcpSwitch } from "./tcp-switch.ts";

const AGENTS = 20;
const INTERVAL_MS = 1000;
/** The agents' backoff cap for this test (the default is 60 s). */
const MAX_BACKOFF_MS = 2000;
/** How long the broker is unreachable, at least: several backoff windows, so every agent is at the cap. */
const OUTAGE_MS = 5 * MAX_BACKOFF_MS;
/** A reconnection: within one backoff window, plus one request and our polling. */
const RECONNECT_WITHIN_MS = MAX_BACKOFF_MS + 1500;


let workDir: string;
let brokerOptions: ScratchBrokerOptions;
let broker: LocalBroker;
let relay: TcpSwitch;
const agents: AgentHandle[] = [];

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "broker-faults-herd-"));
  brokerOptions = await scratchBrokerOptions(workDir);
  broker = await startBroker(brokerOptions);
  relay = new TcpSwitch(await freePort(), brokerOptions.port);
  await relay.restore();
  await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs: INTERVAL_MS });
  // The agents know the broker only through the switch.
  const viaSwitch: LocalBroker = { ...broker, url: relay.url };
  for (let first = 0; first < AGENTS; first += 5) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(5, AGENTS - first) }, (_, offset) => {
        const hostname = `herd-${String(first + offset).padStart(2, "0")}`;
        return enrolAgent(viaSwitch, { hostname, dir: join(workDir, hostname), staticData: {}, logFile: join(workDir, `${hostname}.log`) });
      }),
    );
    agents.push(...batch);
  }
  for (const agent of agents) {
    const config = JSON.parse(readFileSync(agent.configPath, "utf8")) as Record<string, unknown>;
    writeFileSync(agent.configPath, JSON.stringify({ ...config, maxBackoffMs: MAX_BACKOFF_MS }, null, 2));
    agent.start();
  }
  await waitFor(async () => {
    const servers = await listServers(broker);
    return servers.length === AGENTS && servers.every((server) => server.status === "up");
  }, 20_000, `${AGENTS} up servers`);
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop("SIGKILL")));
  await relay?.cut();
  await broker?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe(`${AGENTS} agents that lose the broker and come back`, () => {
  it("reconnect spread over their backoff window, not in a herd, and all come back up", async () => {
    const cutAt = Date.now();
    await relay.cut();
    // The broker restarts meanwhile, on its persisted state.
    await broker.stop();
    broker = await startBroker(brokerOptions);
    const remaining = cutAt + OUTAGE_MS - Date.now();
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));

    await relay.restore();
    const backAt = Date.now();
    const firstBeat = new Map<string, number>();
    await waitFor(
      async () => {
        for (const server of await listServers(broker)) {
          if (server.lastSeenAt !== null && server.lastSeenAt >= backAt && !firstBeat.has(server.serverId)) firstBeat.set(server.serverId, server.lastSeenAt);
        }
        return firstBeat.size === AGENTS;
      },
      RECONNECT_WITHIN_MS + 3000,
      "every agent's first beat after the outage",
    );

    const offsets = [...firstBeat.values()].map((at) => at - backAt).sort((a, b) => a - b);
    const spreadMs = (offsets.at(-1) ?? 0) - (offsets[0] ?? 0);
    // The most reconnections in any 200 ms: a herd puts nearly all of them in one.
    let crowd = 0;
    for (const [index, start] of offsets.entries()) crowd = Math.max(crowd, offsets.slice(index).filter((offset) => offset < start + 200).length);
    const histogram = Array.from({ length: Math.ceil(RECONNECT_WITHIN_MS / 250) }, (_, bucket) => offsets.filter((offset) => offset >= bucket * 250 && offset < (bucket + 1) * 250).length);
    console.log(
      `outage ${backAt - cutAt} ms (broker restarted); reconnections after the broker came back (ms): ${offsets.join(", ")}; ` +
        `spread ${spreadMs} ms, at most ${crowd} in any 200 ms; per 250 ms: [${histogram.join(" ")}]`,
    );

    // Each agent's next retry is the rest of a delay uniform in [0, maxBackoffMs]: reconnections
    // fall over one window, denser at its start (a triangular density, mean maxBackoffMs / 3).
    // A herd would put them all within a few ms. The bounds leave room for chance (p < 1e-4).
    expect(offsets.at(-1) ?? Infinity).toBeLessThanOrEqual(RECONNECT_WITHIN_MS);
    expect(spreadMs).toBeGreaterThanOrEqual(0.4 * MAX_BACKOFF_MS);
    expect(crowd).toBeLessThanOrEqual(Math.ceil(0.75 * AGENTS));

    // State converges: every node up, each beating again.
    await waitFor(async () => (await listServers(broker)).every((server) => server.status === "up"), 2 * INTERVAL_MS + 2000, "all nodes up again");
    const servers = await listServers(broker);
    expect(servers).toHaveLength(AGENTS);
    expect(agents.every((agent) => agent.running)).toBe(true);
  });
});
