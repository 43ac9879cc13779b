import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, beat, enrolNode, listServers } from "./helpers.ts";

const pool = () => env.POOL.getByName("default");

/**
 * Moves a node's last heartbeat into the past, as if `ageMs` had passed without a beat. The
 * object keeps nodes in memory, so it is evicted to read the edited storage afresh.
 */
async function age(serverId: string, ageMs: number) {
  await runInDurableObject(pool(), (_instance, state) => {
    state.storage.sql.exec("UPDATE nodes SET last_seen_at = last_seen_at - ? WHERE server_id = ?", ageMs, serverId);
  });
  await evictDurableObject(pool());
}

async function statusOf(serverId: string) {
  return (await listServers()).find((server) => server.serverId === serverId)?.status;
}

describe("liveness alarm", () => {
  it("marks a node down after 3 missed intervals and up again on the next good beat", async () => {
    const node = await enrolNode("live-1");
    const fresh = await enrolNode("live-2");
    expect((await beat(node)).status).toBe(200);
    expect((await beat(fresh)).status).toBe(200);

    await age(node.serverId, 2 * 10_000);
    await runDurableObjectAlarm(pool());
    expect(await statusOf(node.serverId)).toBe("up");

    await age(node.serverId, 10_001);
    expect(await runDurableObjectAlarm(pool())).toBe(true);
    expect(await statusOf(node.serverId)).toBe("down");
    expect(await statusOf(fresh.serverId)).toBe("up");

    expect((await beat(node)).status).toBe(200);
    expect(await statusOf(node.serverId)).toBe("up");
  });

  it("keeps an alarm scheduled while any node is up, and none once all are down", async () => {
    const node = await enrolNode("live-3");
    expect((await beat(node)).status).toBe(200);
    expect(await runInDurableObject(pool(), (_i, state) => state.storage.getAlarm())).not.toBeNull();
    for (const server of await listServers()) await age(server.serverId, 60_000);
    await runDurableObjectAlarm(pool());
    expect((await listServers()).every((server) => server.status === "down")).toBe(true);
    expect(await runInDurableObject(pool(), (_i, state) => state.storage.getAlarm())).toBeNull();
  });

  it("a draining node stays up, shows as draining, and is told so in the reply", async () => {
    const node = await enrolNode("live-drain");
    expect((await beat(node)).status).toBe(200);
    expect((await admin(`/v1/admin/pools/default/servers/${node.serverId}/drain`, "POST")).status).toBe(200);
    const reply = await beat(node);
    expect(await reply.json()).toMatchObject({ status: "draining", draining: true });
    expect(await statusOf(node.serverId)).toBe("draining");
  });
});

describe("eviction", () => {
  it("keeps every node's live state and sequence after the object is evicted", async () => {
    const node = await enrolNode("evict-1");
    expect((await beat(node)).status).toBe(200);
    const before = await listServers();
    await evictDurableObject(pool());
    expect(await listServers()).toEqual(before);
    expect((await beat(node, undefined, { seq: node.seq })).status).toBe(409);
    expect((await beat(node)).status).toBe(200);
  });

  it("recovers a node the catalogue has but the object lost", async () => {
    const node = await enrolNode("evict-lost");
    await runInDurableObject(pool(), (_instance, state) => {
      state.storage.sql.exec("DELETE FROM nodes WHERE server_id = ?", node.serverId);
    });
    await evictDurableObject(pool());
    expect((await beat(node)).status).toBe(200);
    expect(await statusOf(node.serverId)).toBe("up");
  });
});
