/**
 * Faults inside the platform: the pool Durable Object evicted (graceful: in-memory state torn
 * down, storage kept) or aborted (a hard restart that fails the calls in flight) while
 * heartbeats and selections run concurrently; and clock skew between a node and the broker.
 * Invariants: no node is lost, every placement the caller was told about is stored, and no
 * server is booked beyond its capacity.
 */
import { abortAllDurableObjects, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signHeartbeatToken } from "../../agent/token.ts";
import { CLOCK_SKEW_SECONDS } from "../../src/protocol.ts";
import { admin, beat, call, enrolNode, listServers, sampleBody, type TestNode } from "./helpers.ts";

const NODES = 12;
const MAX_SESSIONS = 3;
const SELECTIONS = NODES * MAX_SESSIONS + 12;

const idle = () => sampleBody({ sessions: [], users: [], staticData: { maxSessions: MAX_SESSIONS } });

async function createPool(name: string): Promise<void> {
  const response = await admin("/v1/admin/pools", "POST", { name, intervalMs: 10_000 });
  if (response.status !== 201) throw new Error(`pool: ${response.status} ${await response.text()}`);
}

interface Traffic {
  beatsAccepted: number;
  beatErrors: string[];
  placed: Array<{ serverId: string; reservationId: string }>;
  full: number;
  selectErrors: string[];
  /** Disruptions that happened while beats or selections were still running. */
  disruptions: number;
  /** Beats and selections completed between the first and the last disruption. */
  completedAcross: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ROUNDS = 8;
const ROUND_GAP_MS = 12;

/**
 * Every node beats in its own sequential loop (seq order kept, `ROUND_GAP_MS` apart), while
 * `SELECTIONS` distinct users start sessions spread over the same time, and `disrupt` hits the
 * object every 20 ms until the traffic is done. A call cut off by a hard restart is retried
 * with a fresh stub, as the next Worker request would.
 */
async function runTraffic(pool: string, nodes: TestNode[], disrupt: () => Promise<boolean>, options: { retry: boolean }): Promise<Traffic> {
  const traffic: Traffic = { beatsAccepted: 0, beatErrors: [], placed: [], full: 0, selectErrors: [], disruptions: 0, completedAcross: 0 };
  let done = false;
  let completed = 0;
  const beats = nodes.map(async (node, nodeIndex) => {
    await sleep(nodeIndex % 4);
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) await sleep(ROUND_GAP_MS);
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const response = await beat(node, idle());
          if (response.status === 200) {
            traffic.beatsAccepted += 1;
            completed += 1;
            break;
          }
          traffic.beatErrors.push(`${node.hostname}: ${response.status} ${await response.text()}`);
        } catch (error) {
          traffic.beatErrors.push(`${node.hostname}: ${String(error)}`);
        }
        if (!options.retry) break;
      }
    }
  });
  const selections = Array.from({ length: SELECTIONS }, async (_, index) => {
    await sleep((index * ROUNDS * ROUND_GAP_MS) / SELECTIONS);
    const request = { action: "session/start" as const, user: { login: `fault-user-${index}`, groups: [], isAdmin: false, isManager: false }, local: {}, data: {} };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const outcome = await env.POOL.getByName(pool).select(request);
        completed += 1;
        if (outcome.ok && outcome.value.reservationId) traffic.placed.push({ serverId: outcome.value.serverId, reservationId: outcome.value.reservationId });
        else if (!outcome.ok && outcome.error.code === "NO_SERVER_AVAILABLE") traffic.full += 1;
        else traffic.selectErrors.push(JSON.stringify(outcome));
        return;
      } catch (error) {
        traffic.selectErrors.push(String(error));
        if (!options.retry) return;
      }
    }
  });
  const disruption = (async () => {
    let first: number | null = null;
    let last = 0;
    while (!done) {
      await sleep(20);
      if (done) break;
      if (await disrupt()) {
        traffic.disruptions += 1;
        first ??= completed;
        last = completed;
      }
    }
    traffic.completedAcross = last - (first ?? 0);
  })();
  await Promise.all([...beats, ...selections]);
  done = true;
  await disruption;
  return traffic;
}

async function storedReservations(pool: string): Promise<Array<{ id: string; server_id: string }>> {
  return runInDurableObject(env.POOL.getByName(pool), (_instance, state) =>
    state.storage.sql.exec<{ id: string; server_id: string }>("SELECT id, server_id FROM reservations").toArray(),
  );
}

async function enrolPoolNodes(pool: string): Promise<TestNode[]> {
  const nodes: TestNode[] = [];
  for (let index = 0; index < NODES; index++) nodes.push(await enrolNode(`${pool}-node-${index}`, pool));
  for (const node of nodes) expect((await beat(node, idle())).status).toBe(200);
  return nodes;
}

/** The invariants after any disruption: every node known and up, placements stored, capacity kept. */
async function expectConsistent(pool: string, nodes: TestNode[], traffic: Traffic): Promise<void> {
  const servers = await listServers(pool);
  expect(servers.map((server) => server.serverId).sort()).toEqual(nodes.map((node) => node.serverId).sort());
  expect(servers.every((server) => server.status === "up")).toBe(true);
  // Every node still beats: its key and last sequence number survived.
  for (const node of nodes) expect((await beat(node, idle())).status).toBe(200);

  const stored = await storedReservations(pool);
  const storedIds = new Set(stored.map((row) => row.id));
  for (const placed of traffic.placed) expect(storedIds.has(placed.reservationId), `reservation ${placed.reservationId} lost`).toBe(true);
  expect(new Set(traffic.placed.map((placed) => placed.reservationId)).size).toBe(traffic.placed.length);
  const perServer = new Map<string, number>();
  for (const row of stored) perServer.set(row.server_id, (perServer.get(row.server_id) ?? 0) + 1);
  for (const [serverId, count] of perServer) expect(count, `${serverId} booked ${count} times`).toBeLessThanOrEqual(MAX_SESSIONS);
  // The broker's own view agrees with its storage.
  for (const server of await listServers(pool)) expect(server["pendingSessions"]).toBe(perServer.get(server.serverId) ?? 0);
}

describe("the pool object evicted during heartbeats and selections", () => {
  it("loses no node and no placement, and never books a server past its capacity", async () => {
    await createPool("evict");
    const nodes = await enrolPoolNodes("evict");
    const traffic = await runTraffic(
      "evict",
      nodes,
      async () => {
        try {
          await evictDurableObject(env.POOL.getByName("evict"));
          return true;
        } catch {
          return false; // not running at this instant: nothing to evict
        }
      },
      { retry: false },
    );
    expect(traffic.disruptions).toBeGreaterThanOrEqual(3);
    expect(traffic.completedAcross).toBeGreaterThan(0);
    // A graceful eviction drains in-flight calls: nothing fails.
    expect(traffic.beatErrors).toEqual([]);
    expect(traffic.selectErrors).toEqual([]);
    expect(traffic.beatsAccepted).toBe(NODES * ROUNDS);
    // Capacity is exactly NODES × MAX_SESSIONS; every start beyond it is refused, not squeezed in.
    expect(traffic.placed.length).toBe(NODES * MAX_SESSIONS);
    expect(traffic.full).toBe(SELECTIONS - NODES * MAX_SESSIONS);
    await expectConsistent("evict", nodes, traffic);
  });

  it("survives a hard restart (calls in flight fail and are retried) with the same invariants", async () => {
    await createPool("abort");
    const nodes = await enrolPoolNodes("abort");
    const traffic = await runTraffic(
      "abort",
      nodes,
      async () => {
        await abortAllDurableObjects();
        return true;
      },
      { retry: true },
    );
    expect(traffic.disruptions).toBeGreaterThanOrEqual(3);
    expect(traffic.completedAcross).toBeGreaterThan(0);
    // A refused beat after a restart would be a lost key or sequence: only transport errors are allowed.
    expect(traffic.beatErrors.filter((error) => /: \d{3} /.test(error))).toEqual([]);
    // A selection cut off mid-call may or may not have been stored; a retried one must not overbook.
    expect(traffic.placed.length).toBeLessThanOrEqual(NODES * MAX_SESSIONS);
    expect(traffic.placed.length + traffic.full).toBeGreaterThanOrEqual(SELECTIONS - traffic.selectErrors.length);
    await expectConsistent("abort", nodes, traffic);
    const stored = await storedReservations("abort");
    expect(stored.length).toBeLessThanOrEqual(NODES * MAX_SESSIONS);
  });
});

describe("clock skew between a node and the broker", () => {
  /** One beat signed by the agent's own signer with the node's clock `skewSeconds` off. */
  async function skewedBeat(node: TestNode, skewSeconds: number): Promise<Response> {
    const body = JSON.stringify(idle());
    node.seq += 1;
    const token = await signHeartbeatToken(node, body, node.seq, Date.now() + skewSeconds * 1000);
    return call("/v1/agent/heartbeat", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body });
  }

  it(`accepts beats from a node ±20 s off (leeway ${CLOCK_SKEW_SECONDS} s), refuses ±120 s, and keeps liveness on the broker's clock`, async () => {
    await createPool("skew");
    const node = await enrolNode("skew-node", "skew");
    const before = Date.now();
    expect((await skewedBeat(node, -20)).status).toBe(200);
    expect((await skewedBeat(node, 20)).status).toBe(200);
    // lastSeenAt is when the broker received the beat, not the node's iat.
    const seen = (await listServers("skew")).find((server) => server.serverId === node.serverId);
    expect(seen?.status).toBe("up");
    expect(Number(seen?.["lastSeenAt"])).toBeGreaterThanOrEqual(before);

    const ahead = await skewedBeat(node, 120);
    expect(ahead.status).toBe(401);
    const behind = await skewedBeat(node, -120);
    expect(behind.status).toBe(401);
    // Refused beats changed nothing: the next good beat (seq still ahead) is accepted.
    expect((await skewedBeat(node, 0)).status).toBe(200);
  });

  it("a fast clock is allowed the leeway, a slow one the token lifetime plus the leeway", async () => {
    await createPool("skew-edges");
    const node = await enrolNode("skew-edge", "skew-edges");
    // iat may be up to CLOCK_SKEW_SECONDS ahead; exp (iat + 30 s) may be up to CLOCK_SKEW_SECONDS behind.
    expect((await skewedBeat(node, CLOCK_SKEW_SECONDS - 5)).status).toBe(200);
    expect((await skewedBeat(node, CLOCK_SKEW_SECONDS + 5)).status).toBe(401);
    expect((await skewedBeat(node, -(30 + CLOCK_SKEW_SECONDS) + 5)).status).toBe(200);
    expect((await skewedBeat(node, -(30 + CLOCK_SKEW_SECONDS) - 5)).status).toBe(401);
  });
});
