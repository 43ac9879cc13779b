/**
 * The wait line under concurrency (issue 16 item 6): free N slots while M users wait and new
 * starts race in, with the pool object evicted in the middle. Each slot is placed once, the
 * waiters are served in arrival order, nobody is placed twice, newcomers line up behind, and the
 * line is intact after the eviction.
 */
import { env } from "cloudflare:workers";
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, asUser, beat, enrolNode, sampleBody, type TestNode, userToken } from "./helpers.ts";

const POOL = "wlc";
const PROFILE = "wlc-desk";
const NODES = 4;
const PER_NODE = 2;
const WAITERS = 12;
const FREED = 5;
const NEWCOMERS = 6;

type Answer = { state: string; serverId?: string; sessionId?: string; queued?: { id: string; position: number } };

async function beatUsers(node: TestNode, users: string[]): Promise<void> {
  const sessions = users.map((user) => ({ id: `${node.hostname}-${user}`, user, state: "running" as const, startedAt: 1_700_000_000_000 }));
  expect((await beat(node, sampleBody({ sessions, users, staticData: { maxSessions: PER_NODE } }))).status).toBe(200);
}

async function startAs(login: string): Promise<{ token: string; status: number; answer: Answer }> {
  const token = await userToken(login);
  const response = await asUser(token, "/v1/sessions", "POST", { profileId: PROFILE });
  return { token, status: response.status, answer: (await response.json()) as Answer };
}

describe("wait line: concurrency", () => {
  it("places each freed slot once, in arrival order, with newcomers racing in and the object evicted", async () => {
    expect((await admin("/v1/admin/pools", "POST", { name: POOL, intervalMs: 300_000 })).status).toBe(201);
    const nodes: TestNode[] = [];
    for (let index = 0; index < NODES; index++) nodes.push(await enrolNode(`${POOL}-${index}`, POOL));
    for (const node of nodes) await beatUsers(node, []);
    const profile = { id: PROFILE, name: "Desk", pool: POOL, mode: "relay", maxSessionsPerUser: 1, queue: { enabled: true, maxLength: 100, maxWaitSeconds: 600 } };
    expect((await admin("/v1/admin/profiles", "POST", profile)).status).toBe(201);

    // Fill every slot, and let the nodes report those sessions.
    const holders = new Map<string, string[]>(nodes.map((node) => [node.serverId, []]));
    for (let index = 0; index < NODES * PER_NODE; index++) {
      const login = `wlc-h${index}`;
      const started = await startAs(login);
      expect(started.status).toBe(201);
      holders.get(started.answer.serverId as string)?.push(login);
    }
    for (const node of nodes) await beatUsers(node, holders.get(node.serverId) ?? []);

    // M users wait, one after another (arrival order is the order their 202s came back).
    const waiters: Array<{ login: string; token: string; id: string }> = [];
    for (let index = 0; index < WAITERS; index++) {
      const started = await startAs(`wlc-w${index}`);
      expect(started.status).toBe(202);
      expect(started.answer.queued?.position).toBe(index + 1);
      waiters.push({ login: `wlc-w${index}`, token: started.token, id: started.answer.queued?.id as string });
    }

    // Free N slots (sessions end on the nodes) while newcomers start and the object is evicted.
    const freedFrom = nodes.map((node) => ({ node, users: [...(holders.get(node.serverId) ?? [])] }));
    const toFree: Array<{ node: TestNode; keep: string[] }> = [];
    let left = FREED;
    for (const { node, users } of freedFrom) {
      const drop = Math.min(left, users.length);
      left -= drop;
      toFree.push({ node, keep: users.slice(drop) });
    }
    const frees = toFree.map(({ node, keep }, index) => new Promise((resolve) => setTimeout(resolve, index * 3)).then(() => beatUsers(node, keep)));
    const newcomers = Array.from({ length: NEWCOMERS }, (_, index) => new Promise((resolve) => setTimeout(resolve, index * 2)).then(() => startAs(`wlc-n${index}`)));
    const eviction = new Promise((resolve) => setTimeout(resolve, 6)).then(() => evictDurableObject(env.POOL.getByName(POOL)));
    const [, arrived] = await Promise.all([Promise.all(frees), Promise.all(newcomers), eviction]);
    // After an eviction, the next beat passes the line again (what a node's next heartbeat does).
    for (const { node, keep } of toFree) await beatUsers(node, keep);

    // Everyone's answer, once the line has settled.
    const read = async (token: string, id: string) => (await (await asUser(token, `/v1/queue/${id}?wait=0`)).json()) as Answer;
    let answers: Answer[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      answers = await Promise.all(waiters.map((waiter) => read(waiter.token, waiter.id)));
      if (answers.filter((answer) => answer.state === "running").length >= FREED) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const placed = answers.flatMap((answer, index) => (answer.state === "running" ? [index] : []));
    expect(placed).toEqual([0, 1, 2, 3, 4]);
    const sessionIds = answers.filter((answer) => answer.state === "running").map((answer) => answer.sessionId);
    expect(new Set(sessionIds).size).toBe(FREED);
    expect(arrived.every((started) => started.status === 202)).toBe(true);

    // The rest wait in order; newcomers behind them; no server holds more than it can.
    const stillWaiting = answers.slice(FREED).map((answer) => answer.queued?.position);
    expect(stillWaiting).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const queue = (await (await admin(`/v1/admin/pools/${POOL}/queue`)).json()) as { queue: Array<{ user: string; position: number }> };
    expect(queue.queue.map((entry) => entry.user).slice(0, WAITERS - FREED)).toEqual(waiters.slice(FREED).map((waiter) => waiter.login));
    expect(queue.queue.length).toBe(WAITERS - FREED + NEWCOMERS);
    const servers = (await (await admin(`/v1/admin/pools/${POOL}/servers`)).json()) as { servers: Array<{ sessions: unknown[]; pendingSessions: number }> };
    for (const server of servers.servers) expect(server.sessions.length + server.pendingSessions).toBeLessThanOrEqual(PER_NODE);
  });
});
