/**
 * The wait line (issue 16 item 6) with real agents: three agent processes (room for 2 sessions
 * each, static data `maxSessions`) with the node gateway and the shipped `demo` launcher, so a
 * placement is a real demo desktop launched over the control channel, as `npm start` runs it.
 * Users have passwords and sign in (the harness's socket adds no CF-Connecting-IP, so the
 * per-address sign-in limit does not count them). A queueing profile; every slot filled; 8 users
 * wait and long-poll their places. The broker restarts on its persisted state (the pool object's
 * memory is gone; the agents reconnect by themselves) and the line is intact; then 3 sessions end
 * (DELETE) while 4 newcomers race in: exactly the first 3 waiters are placed, once, with a start's
 * answer whose relay reaches their desktop, and the long-poll is held while a place launches; the
 * newcomers queue behind; positions move up; leaving (DELETE /v1/queue/:id) moves those behind up;
 * a node that crashes (agent and desktops killed) places nobody while down and the next two heads
 * when it comes back empty. A sampler of the admin server list checks that no server ever holds
 * more than it can. (Eviction in the middle of the race: test/worker/wait-line-concurrency.test.ts.)
 * Loopback only; bounded by the timeouts below.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSIONS_FILE } from "../../agent/launch/session-store.ts";
import { LAUNCHERS_DIR } from "../../scripts/demo-cluster.ts";
import { type AgentHandle, enrolAgent } from "../harness/agents.ts";
import { type LocalBroker, type ScratchBrokerOptions, scratchBrokerOptions, startBroker } from "../harness/broker.ts";
import { adminCall, call, signIn } from "../harness/client.ts";
import { freePort } from "../harness/ports.ts";
import { waitFor } from "../harness/wait.ts";

const INTERVAL_MS = 1000;
const PER_NODE = 2;
/** Users waiting, sessions ended while newcomers race in, newcomers. */
const [WAITERS, FREED, NEWCOMERS] = [8, 3, 4] as const;
const PROFILE = "wl-desk";
const PASSWORD = "wait-line-password-123";

type Answer = { state: string; serverId?: string; hostname?: string; sessionId?: string; relay?: { connectUrl: string }; queued?: { id: string; position: number } };
type Server = { serverId: string; hostname: string; status: string; channelConnected: boolean; lastSeenAt: number | null; pendingSessions: number; sessions: Array<{ user: string }> };
/** A user in line, long-polling as a client does: every position seen, answers of a place still launching (position 0), then the start's answer or the error status. */
type Waiter = { login: string; token: string; id: string; positions: number[]; polls: number; launchingPolls: number; placed?: Answer; endedWith?: number };

let workDir: string;
let options: ScratchBrokerOptions;
let broker: LocalBroker;
const agents: AgentHandle[] = [];
const waiters: Waiter[] = [];
const newcomers: Waiter[] = [];
const holders: Array<{ token: string; answer: Answer }> = [];
const overCapacity: string[] = [];
const aborts = new AbortController();
let sampler: Promise<void> = Promise.resolve();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const servers = async () => (await adminCall<{ servers: Server[] }>(broker, "/v1/admin/pools/default/servers")).servers;
const start = (token: string) => call<Answer>(broker.url, "/v1/sessions", { token, body: { profileId: PROFILE } });
const read = (w: Waiter) => call<Answer>(broker.url, `/v1/queue/${w.id}`, { token: w.token });
const lastPosition = (w: Waiter) => w.positions.at(-1);
/** True when `line`'s places (by default, what each long-poll last saw) are 1..n in its order; else throws them, for waitFor's message. */
function inOrder(line: Waiter[], places: Array<number | undefined> = line.map(lastPosition)): boolean {
  if (places.every((place, index) => place === index + 1)) return true;
  throw new Error(`places ${line.map((w, index) => `${w.login}=${places[index]}`).join(" ")}`);
}

async function user(login: string): Promise<string> {
  await adminCall(broker, "/v1/admin/users", "POST", { login, password: PASSWORD, groups: [] });
  return signIn(broker, login, PASSWORD);
}

/** `GET /v1/queue/:id?wait=20&position=…` until placed or gone; a restarting broker is retried. */
async function follow(w: Waiter): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline && w.polls < 2000 && !aborts.signal.aborted) {
    w.polls += 1;
    try {
      const signal = AbortSignal.any([aborts.signal, AbortSignal.timeout(30_000)]);
      const url = `${broker.url}/v1/queue/${w.id}?wait=20&position=${lastPosition(w) ?? 0}`;
      const response = await fetch(url, { headers: { Authorization: `Bearer ${w.token}` }, signal });
      const body = (await response.json()) as Answer;
      if (response.status >= 500) throw new Error(`${response.status}`);
      if (response.status !== 200) return void (w.endedWith = response.status);
      if (body.state !== "queued") return void (w.placed = body);
      if (body.queued?.position === 0) w.launchingPolls += 1;
      if (body.queued?.position !== lastPosition(w)) w.positions.push(body.queued?.position ?? -1);
    } catch {
      await sleep(250);
    }
  }
}

async function queueUp(login: string, into: Waiter[], token?: string): Promise<Waiter> {
  const own = token ?? (await user(login));
  const started = await start(own);
  expect(started.status, started.text).toBe(202);
  const w: Waiter = { login, token: own, id: started.body.queued?.id as string, positions: [started.body.queued?.position as number], polls: 0, launchingPolls: 0 };
  into.push(w);
  void follow(w);
  return w;
}

/** The first message of the relayed desktop (the demo desktop greets with the user and the session). */
function greeting(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => (socket.terminate(), reject(new Error("no greeting within 10 s"))), 10_000);
    socket.once("message", (data) => (clearTimeout(timer), socket.close(1000), resolve(data.toString())));
    socket.once("unexpected-response", (_request, response) => (clearTimeout(timer), reject(new Error(`relay refused: ${response.statusCode}`))));
    socket.once("error", (error) => (clearTimeout(timer), reject(error)));
  });
}

/** Kills the demo desktops an agent launched (its launched-sessions file names their process groups). */
function killDesktops(agent: AgentHandle): number {
  let killed = 0;
  for (const { pgid } of launched(agent)) {
    try {
      if (pgid) killed += Number(process.kill(-pgid.pid, "SIGKILL"));
    } catch {}
  }
  return killed;
}

/** The sessions an agent launched and keeps (its launched-sessions file). */
function launched(agent: AgentHandle): Array<{ pgid?: { pid: number } }> {
  const file = join(agent.stateDir, SESSIONS_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { sessions: Array<{ pgid?: { pid: number } }> }).sessions : [];
}

async function allUpSince(sinceMs: number): Promise<boolean> {
  const list = await servers();
  return list.length === agents.length && list.every((s) => s.status === "up" && s.channelConnected && (s.lastSeenAt ?? 0) > sinceMs);
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "broker-wait-line-"));
  options = await scratchBrokerOptions(workDir);
  broker = await startBroker(options);
  await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs: INTERVAL_MS });
  for (const hostname of ["wl-node-1", "wl-node-2", "wl-node-3"]) {
    const listen = `127.0.0.1:${await freePort()}`;
    const agent = await enrolAgent(broker, {
      hostname,
      staticData: { maxSessions: PER_NODE },
      originUrl: `http://${listen}/`,
      gateway: { listen },
      launchers: { dir: LAUNCHERS_DIR, statusIntervalMs: 500 },
      sessionSource: { type: "none" },
      dir: join(workDir, hostname),
      logFile: join(workDir, `${hostname}.log`),
    });
    agent.start();
    agents.push(agent);
  }
  const queue = { enabled: true, maxLength: 20, maxWaitSeconds: 600 };
  // The desktops end by themselves after 5 min, should anything outlive the clean-up below.
  await adminCall(broker, "/v1/admin/profiles", "POST", { id: PROFILE, name: "Desk", pool: "default", mode: "relay", acl: {}, launcher: { name: "demo", params: { lifetimeMs: 300_000 } }, queue });
  await waitFor(() => allUpSince(0), 30_000, "three up servers with their channels");
  sampler = (async () => {
    while (!aborts.signal.aborted) {
      for (const s of await servers().catch(() => [])) {
        if (s.status === "up" && s.sessions.length + s.pendingSessions > PER_NODE) overCapacity.push(`${s.hostname}: ${s.sessions.map((x) => x.user).join(",")} +${s.pendingSessions}`);
      }
      await sleep(100);
    }
  })();
});

afterAll(async () => {
  aborts.abort();
  await sampler;
  await Promise.all(agents.map((agent) => agent.stop("SIGKILL")));
  for (const agent of agents) killDesktops(agent);
  await broker?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe("the wait line with real agents", () => {
  it("fills every slot, then gives the next users places 1..M in order", async () => {
    for (let index = 0; index < agents.length * PER_NODE; index++) {
      const token = await user(`wl-h${index}`);
      const started = await start(token);
      expect(started.status, started.text).toBe(201);
      holders.push({ token, answer: started.body });
    }
    for (const s of await servers()) expect(s.sessions.length + s.pendingSessions).toBe(PER_NODE);
    for (let index = 0; index < WAITERS; index++) expect((await queueUp(`wl-w${index}`, waiters)).positions).toEqual([index + 1]);
  });

  it("keeps the line across a broker restart (the pool object's memory is lost); the agents come back by themselves", async () => {
    await broker.stop();
    const restartedAt = Date.now();
    broker = await startBroker(options);
    await waitFor(() => allUpSince(restartedAt), 30_000, "every agent back, beating, its channel open");
    const line = (await adminCall<{ queue: Array<{ user: string; position: number }> }>(broker, "/v1/admin/pools/default/queue")).queue;
    expect(line.map((entry) => [entry.user, entry.position])).toEqual(waiters.map((w, index) => [w.login, index + 1]));
    for (const [index, w] of waiters.entries()) expect((await read(w)).body.queued?.position).toBe(index + 1);
    expect(waiters.filter((w) => w.placed || w.endedWith)).toEqual([]);
  });

  it(`places exactly the first ${FREED} waiters, once, when ${FREED} sessions end while ${NEWCOMERS} newcomers race in`, async () => {
    const tokens = await Promise.all(Array.from({ length: NEWCOMERS }, (_, index) => user(`wl-n${index}`)));
    // One session ends on each node.
    const freed = agents.map((agent) => holders.find((h) => h.answer.serverId === agent.serverId) as (typeof holders)[number]);
    const ends = freed.map((h, index) => sleep(index * 5).then(() => call(broker.url, `/v1/sessions/${h.answer.sessionId}`, { method: "DELETE", token: h.token })));
    const joins = tokens.map((token, index) => sleep(index * 4).then(() => queueUp(`wl-n${index}`, newcomers, token)));
    expect((await Promise.all(ends)).map((ended) => ended.status)).toEqual(freed.map(() => 204));
    await Promise.all(joins);
    // Whatever happened first, a newcomer's place is behind everyone who waited before it.
    expect(Math.min(...newcomers.map((w) => w.positions[0] as number))).toBeGreaterThan(WAITERS - FREED);
    await waitFor(() => waiters.filter((w) => w.placed).length >= FREED, 20_000, `${FREED} waiters placed`);
    await sleep(3 * INTERVAL_MS); // beats come and go: nobody else may be placed
    expect(waiters.map((w) => w.placed !== undefined)).toEqual(waiters.map((_, index) => index < FREED));
    const placed = waiters.slice(0, FREED);
    expect(new Set(placed.map((w) => w.placed?.sessionId)).size).toBe(FREED);
    for (const w of placed) {
      expect(Object.keys(w.placed as Answer).sort()).toEqual(Object.keys(holders[0]?.answer as Answer).sort());
      expect(w.placed).toMatchObject({ state: "running", resumed: false, profileId: PROFILE, relay: { connectUrl: expect.any(String) } });
      expect(await greeting(w.placed?.relay?.connectUrl as string)).toContain(`on ${w.placed?.hostname}: hello ${w.login} (session ${w.placed?.sessionId})`);
      // Read again: the same placement, a fresh ticket.
      expect((await read(w)).body).toMatchObject({ state: "running", sessionId: w.placed?.sessionId, serverId: w.placed?.serverId });
    }
    expect(new Set(placed.map((w) => w.placed?.serverId)).size).toBe(agents.length);
    const rest = waiters.slice(FREED);
    await waitFor(() => inOrder(rest), 5_000, "the rest to move up");
    for (const w of rest) expect(w.positions).toEqual([...w.positions].sort((a, b) => b - a));
    const line = (await adminCall<{ queue: Array<{ user: string }> }>(broker, "/v1/admin/pools/default/queue")).queue.map((entry) => entry.user);
    expect(line.slice(0, rest.length)).toEqual(rest.map((w) => w.login));
    expect(line.slice(rest.length).sort()).toEqual(newcomers.map((w) => w.login).sort());
    // The newcomers raced in: their order is the line's, not the order their answers came back in.
    newcomers.sort((a, b) => line.indexOf(a.login) - line.indexOf(b.login));
    console.log(`polls per placed waiter: ${placed.map((w) => `${w.login} ${w.polls} (${w.launchingPolls} while launching)`).join(", ")}`);
    // A place that is placed and launching holds the long-poll (it was answered at once, ~40 polls per launch).
    for (const w of placed) expect(w.launchingPolls).toBeLessThanOrEqual(2);
  });

  it("lets a waiter leave (DELETE /v1/queue/:id): its client is told, those behind move up", async () => {
    const leaver = waiters[FREED + 1] as Waiter;
    expect((await call(broker.url, `/v1/queue/${leaver.id}`, { method: "DELETE", token: leaver.token })).status).toBe(204);
    expect((await read(leaver)).status).toBe(404);
    await waitFor(() => leaver.endedWith === 404, 5_000, "the leaver's long-poll to answer 404");
    const line = [...waiters.slice(FREED).filter((w) => w !== leaver), ...newcomers];
    await waitFor(async () => inOrder(line, (await Promise.all(line.map(read))).map((answer) => answer.body.queued?.position)), 5_000, "positions 1..n");
    await waitFor(() => inOrder(line), 5_000, "every long-poll to see its new place");
  });

  it("places nobody on a crashed node while it is down, and the next heads when it comes back empty", async () => {
    const victim = agents[0] as AgentHandle;
    await victim.stop("SIGKILL");
    expect(killDesktops(victim)).toBe(PER_NODE);
    await waitFor(async () => (await servers()).find((s) => s.serverId === victim.serverId)?.status === "down", 3 * INTERVAL_MS + 3000, "the crashed node down");
    await sleep(2 * INTERVAL_MS);
    const line = [...waiters.slice(FREED).filter((w) => w.endedWith === undefined), ...newcomers];
    expect(line.filter((w) => w.placed)).toEqual([]);
    const upAt = Date.now();
    victim.start();
    await waitFor(() => line.filter((w) => w.placed).length >= PER_NODE, 20_000, "the next heads placed on the node that came back");
    console.log(`the two heads placed ${Date.now() - upAt} ms after the crashed node's agent restarted`);
    await sleep(3 * INTERVAL_MS);
    expect(line.map((w) => w.placed?.serverId ?? null)).toEqual(line.map((_, index) => (index < PER_NODE ? victim.serverId : null)));
    for (const w of line.slice(0, PER_NODE)) expect(await greeting(w.placed?.relay?.connectUrl as string)).toContain(`hello ${w.login} (session ${w.placed?.sessionId})`);
    await waitFor(() => inOrder(line.slice(PER_NODE)), 5_000, "the rest to move up");
  });

  it("never had a server above its capacity, and nobody holds two sessions", async () => {
    expect(overCapacity).toEqual([]);
    const list = await servers();
    const users = list.flatMap((s) => s.sessions.map((session) => session.user));
    expect(users.length).toBe(agents.length * PER_NODE);
    expect(new Set(users).size).toBe(users.length);
    expect(agents.map((agent) => launched(agent).length)).toEqual(agents.map(() => PER_NODE));
  });
});
