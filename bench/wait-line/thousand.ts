/**
 * 1,000 users waiting on one pool: what each operation costs (client time and workerd CPU, from
 * /proc deltas, whole requests: the Worker with its OIDC token check and the pool object) and
 * workerd's memory. In order: 1,000 join (line 0 → 1,000), each reads its place, the admin lists
 * the line, all 1,000 long-poll while slots free one at a time (the head gets its answer, the
 * other 999 their new position and ask again), heartbeats that free nothing with 1,000 waiting,
 * every other waiter leaves, the rest are placed by beats with room for everyone, and the same
 * heartbeats again with the line empty. Loopback only; bounded in count and time.
 */
import type { LocalBroker } from "../../test/harness/broker.ts";
import { adminCall } from "../../test/harness/client.ts";
import { cpuSeconds, rssBytes } from "../../test/harness/proc.ts";
import { follow, type Updates } from "./latency.ts";
import { fullPool, type Idp, joinLine, type NodeSession, sleep, userCall, type Waiter } from "./setup.ts";

export const USERS = 1000;
/** Calls per op run one after another: time is the call's own, not queueing behind others. */
export const CONCURRENCY = 1;
export const JOIN_BATCH = 100;
export const LIST_CALLS = 20;
export const HERD_PLACEMENTS = 5;
export const IDLE_BEATS = 200;
/** Slack for long-polls to park after each herd, so the next free finds them waiting. */
const SETTLE_MS = 300;
const HERD_TIMEOUT_MS = 20_000;
const DRAIN_DEADLINE_MS = 30_000;

export interface Op {
  name: string;
  ms: number[];
  cpuMs: number;
  errors: number;
}

export interface ThousandResult {
  ops: Op[];
  /** Placements with 1,000 long-polling: head's answer and the last position answer, ms after the freeing beat was sent. */
  herd: { headMs: number[]; allToldMs: number[]; cpuMsPerPlacement: number; told: number; due: number };
  drain: { placed: number; beats: number; ms: number; cpuMsPerPlacement: number; firstBeatPlaced: number };
  rss: Array<{ state: string; bytes: number }>;
  listBytes: number;
  inOrder: boolean;
}

/** Runs `op` over `items` with `workers` parallel callers; per-call ms, errors, and workerd CPU ms per call. */
async function closedLoop<T>(broker: LocalBroker, name: string, items: readonly T[], workers: number, op: (item: T, index: number) => Promise<boolean>): Promise<Op> {
  const cpuBefore = cpuSeconds(broker.workerdPid ?? -1);
  const ms: number[] = [];
  let errors = 0;
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < items.length) {
      const index = next++;
      const started = performance.now();
      const ok = await op(items[index] as T, index).catch(() => false);
      ms.push(performance.now() - started);
      if (!ok) errors++;
    }
  }));
  return { name, ms, cpuMs: ((cpuSeconds(broker.workerdPid ?? -1) - cpuBefore) * 1000) / items.length, errors };
}

const queueLength = async (broker: LocalBroker, pool: string) => (await adminCall<{ queue: unknown[] }>(broker, `/v1/admin/pools/${pool}/queue`)).queue.length;

export async function measureThousand(broker: LocalBroker, idp: Idp): Promise<ThousandResult> {
  const pid = broker.workerdPid ?? -1;
  const pool = "wl-thousand";
  const holder: NodeSession = { id: "holder", user: "holder" };
  const { node, profileId } = await fullPool(broker, pool, [holder], 1, { maxLength: USERS, maxWaitSeconds: 3600 });
  const ops: Op[] = [];
  const users = await Promise.all(Array.from({ length: USERS }, async (_, index) => {
    const login = `w${String(index).padStart(4, "0")}@bench.example`;
    return { login, token: await idp.token(login) };
  }));
  // Untimed warm-up: each user lists their profiles once, so workerd's heap has grown for request garbage before the baseline.
  await closedLoop(broker, "warm-up", users, 4, async ({ token }) => (await userCall(broker.url, token, "/v1/profiles")).status === 200);
  const rss = [{ state: `before the line (after ${USERS} warm-up requests)`, bytes: rssBytes(pid) }];

  // Join: line 0 → 1,000 (each user's start answers 202 with their place).
  const joined: Array<Waiter | undefined> = [];
  const batches: Op[] = [];
  for (let from = 0; from < USERS; from += JOIN_BATCH) {
    batches.push(await closedLoop(broker, `join, line ${from} → ${from + JOIN_BATCH}`, users.slice(from, from + JOIN_BATCH), CONCURRENCY, async ({ login, token }, index) => {
      joined[from + index] = await joinLine(broker.url, login, token, profileId);
      return true;
    }));
  }
  ops.push(batches[0] as Op, batches.at(-1) as Op, {
    name: `join, line 0 → ${USERS}`,
    ms: batches.flatMap((batch) => batch.ms),
    cpuMs: batches.reduce((sum, batch) => sum + batch.cpuMs * batch.ms.length, 0) / USERS,
    errors: batches.reduce((sum, batch) => sum + batch.errors, 0),
  });
  const waiters = joined.filter((waiter): waiter is Waiter => waiter !== undefined).sort((a, b) => a.position - b.position);
  const inOrder = waiters.length === USERS && waiters.every((waiter, index) => waiter.position === index + 1);
  rss.push({ state: `${USERS} waiting`, bytes: rssBytes(pid) });

  ops.push(await closedLoop(broker, "read place", waiters, CONCURRENCY, async (waiter) => {
    const answer = await userCall(broker.url, waiter.token, `/v1/queue/${waiter.queueId}`);
    return answer.status === 200 && answer.body.queued?.position === waiter.position;
  }));

  rss.push({ state: `${USERS} waiting, after each read its place (control: requests that hold nothing)`, bytes: rssBytes(pid) });
  let listBytes = 0;
  ops.push(await closedLoop(broker, "admin list", Array.from({ length: LIST_CALLS }), 1, async () => {
    const response = await fetch(`${broker.url}/v1/admin/pools/${pool}/queue`, { headers: { Authorization: `Bearer ${broker.adminToken}` } });
    const text = await response.text();
    listBytes = text.length;
    return response.status === 200 && (JSON.parse(text) as { queue: unknown[] }).queue.length === USERS;
  }));

  // Everyone long-polls; slots free one at a time.
  const updates: Updates = { count: 0, lastAt: 0 };
  const until = { at: performance.now() + 120_000 };
  const following = waiters.map((waiter) => ({ waiter, done: follow(broker.url, waiter, until, updates, 60) }));
  await sleep(2000);
  rss.push({ state: `${USERS} waiting, each with a long-poll held`, bytes: rssBytes(pid) });
  const herd = { headMs: [] as number[], allToldMs: [] as number[], cpuMsPerPlacement: 0, told: 0, due: 0 };
  let sessions: NodeSession[] = [holder];
  const herdCpuBefore = cpuSeconds(pid);
  for (let placement = 0; placement < HERD_PLACEMENTS; placement++) {
    const head = following[placement] as (typeof following)[number];
    const due = USERS - placement - 1;
    const updatesBefore = updates.count;
    if (placement === HERD_PLACEMENTS - 1) until.at = 0; // the last herd: each follower stops after its answer
    const { sentAt } = await node.beat([]);
    const answer = await Promise.race([head.done, sleep(HERD_TIMEOUT_MS).then(() => null)]);
    if (!answer || answer.body.state !== "running") throw new Error(`1,000 waiting: the head's answer was ${answer ? JSON.stringify(answer.body).slice(0, 200) : "not there"} after a slot freed`);
    herd.headMs.push(answer.at - sentAt);
    for (let wait = 0; wait < HERD_TIMEOUT_MS / 10 && updates.count - updatesBefore < due; wait++) await sleep(10);
    herd.allToldMs.push(updates.lastAt - sentAt);
    herd.told += updates.count - updatesBefore;
    herd.due += due;
    await sleep(SETTLE_MS);
    sessions = [{ id: `s-${head.waiter.login}`, user: head.waiter.login }];
    await node.beat(sessions);
  }
  herd.cpuMsPerPlacement = ((cpuSeconds(pid) - herdCpuBefore) * 1000) / HERD_PLACEMENTS;
  rss.push({ state: `after ${HERD_PLACEMENTS} slots freed with every waiter long-polling`, bytes: rssBytes(pid) });
  await Promise.race([Promise.all(following.map(({ done }) => done)), sleep(HERD_TIMEOUT_MS)]);

  // Heartbeats while 1,000 wait and nothing frees: each runs a pass that finds the pool full.
  ops.push(await closedLoop(broker, `heartbeat, ${USERS - HERD_PLACEMENTS} waiting`, Array.from({ length: IDLE_BEATS }), 1, async () => (await node.beat(sessions), true)));

  // Every other waiter leaves.
  const staying = waiters.slice(HERD_PLACEMENTS);
  const leaving = staying.filter((_, index) => index % 2 === 1);
  ops.push(await closedLoop(broker, "leave", leaving, CONCURRENCY, async (waiter) => (await userCall(broker.url, waiter.token, `/v1/queue/${waiter.queueId}`, "DELETE")).status === 204));

  // Room for everyone: beats place the rest (a pass tries at most 32 entries). CPU: the beats only.
  const before = await queueLength(broker, pool);
  node.maxSessions = USERS + 1;
  const drainStarted = performance.now();
  let cpuMs = 0;
  let beats = 0;
  let firstBeatPlaced = 0;
  let left = before;
  while (left > 0 && performance.now() - drainStarted < DRAIN_DEADLINE_MS) {
    const cpuBefore = cpuSeconds(pid);
    const round = beats === 0 ? 1 : Math.ceil(left / 32) + 1;
    for (let index = 0; index < round; index++, beats++) {
      await node.beat(sessions);
      await sleep(10);
    }
    cpuMs += (cpuSeconds(pid) - cpuBefore) * 1000;
    left = await queueLength(broker, pool);
    if (beats === 1) firstBeatPlaced = before - left;
  }
  const drain = { placed: before - left, beats, ms: performance.now() - drainStarted, cpuMsPerPlacement: cpuMs / Math.max(1, before - left), firstBeatPlaced };
  rss.push({ state: "line drained (placed entries kept 5 min for their clients)", bytes: rssBytes(pid) });

  ops.push(await closedLoop(broker, "heartbeat, line empty", Array.from({ length: IDLE_BEATS }), 1, async () => (await node.beat(sessions), true)));
  return { ops, herd, drain, rss, listBytes, inOrder };
}
