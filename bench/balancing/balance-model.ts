/**
 * Balancing simulation over the pure policies (`src/balancer/`), no broker involved: 1,000 users
 * on 10 equal servers with churn. Each tick (one minute) every user may act once: a user
 * without a session starts one, a connected user suspends (disconnects) or ends their session,
 * a user with a suspended session comes back (a resume attempt). Suspended sessions expire.
 * A placement counts in `sessionCount` at once, as the Durable Object's reservations do. Load
 * and free memory are reported once per tick: a running session adds 0.12 to the load and a
 * suspended one 0.01 (decayed like Linux's 1/5/15-minute averages); every session, suspended
 * or not, holds 0.6 GB, since a suspended desktop keeps its applications in memory.
 *
 * The event sequence depends only on the seed, so every policy sees the same users doing the
 * same things; only where they land differs. A resume attempt that misses the server holding
 * the suspended session starts a new session elsewhere and leaves the old one orphaned until it
 * expires, which is what HAProxy `balance source` does to a user whose address changed.
 */
import { runChain } from "../../src/balancer/chain.ts";
import type { Policy } from "../../src/balancer/policy.ts";
import { createSeededRandom, type Random } from "../../src/balancer/random.ts";
import type { StepInput, UserSession } from "../../src/balancer/step.ts";
import type { ServerView } from "../../src/balancer/types.ts";

export const USERS = 1000;
export const SERVERS = 10;
export const CONNECTION_EVENTS = 10_000;
/** Ticks before measuring, so "worst over time" compares steady states, not the first arrivals. */
export const WARMUP_TICKS = 150;
const MAX_TICKS = 5_000;
export const SEED = 20_261_122;

/** Per-tick chances, giving about 400 running and 210 suspended sessions in steady state. */
const P_START = 0.02;
const P_SUSPEND = 0.03;
const P_END = 0.01;
const P_RETURN = 0.04;
export const SUSPENDED_TTL_TICKS = 60;
const NAT_ADDRESS = "203.0.113.7";

export type Population = "uniform" | "nat30" | "roaming";
export const POPULATIONS: Record<Population, string> = {
  uniform: "uniform IPs",
  nat30: "30% behind one NAT",
  roaming: "IP changes per connection",
};

interface SimSession {
  id: string;
  server: number;
  state: "running" | "suspended";
  startedTick: number;
  suspendedTick: number;
}

interface SimUser {
  login: string;
  fixedIp: string;
  sessions: SimSession[];
}

export interface Drain {
  server: number;
  fromTick: number;
  toTick: number;
}

export interface SimOutcome {
  endMaxMean: number;
  worstMaxMean: number;
  endMean: number;
  resumeAttempts: number;
  resumeHits: number;
  connectionEvents: number;
  failures: number;
  ticks: number;
  placedOnDrained: number;
}

export function serverId(index: number): string {
  return `srv_sim${String(index).padStart(8, "0")}`;
}

function newServer(index: number): ServerView {
  return {
    serverId: serverId(index),
    pool: "sim",
    hostname: `node${index}.sim`,
    status: "up",
    draining: false,
    lastSeenAt: 0,
    loadAvg: [0, 0, 0],
    cpuCount: 16,
    cpuMhz: 2600,
    memTotalBytes: 64e9,
    memAvailableBytes: 62e9,
    sessions: [],
    sessionCount: 0,
    pendingSessions: 0,
    users: [],
    staticData: {},
    metrics: {},
    clientAddress: null,
  };
}

/** Linux's load-average decay per one-minute tick, for the 1, 5 and 15 minute averages. */
const LOAD_DECAY = [Math.exp(-1), Math.exp(-1 / 5), Math.exp(-1 / 15)] as const;

/** A heartbeat: load follows running sessions (suspended ones barely), memory all sessions. */
function beat(server: ServerView, running: number, suspended: number, random: Random): void {
  const demand = 0.12 * running + 0.01 * suspended + 0.2 * random();
  const [load1, load5, load15] = server.loadAvg.map((load, index) => {
    const decay = LOAD_DECAY[index as 0 | 1 | 2];
    return load * decay + demand * (1 - decay);
  }) as [number, number, number];
  server.loadAvg = [load1, load5, load15];
  server.memAvailableBytes = Math.max(0.5e9, 62e9 - 0.6e9 * (running + suspended));
}

function clientIp(population: Population, user: SimUser, index: number, random: Random): string {
  if (population === "roaming") return `100.${Math.floor(random() * 64)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
  if (population === "nat30" && index % 10 < 3) return NAT_ADDRESS;
  return user.fixedIp;
}

function maxOverMean(counts: readonly number[]): number {
  const mean = counts.reduce((sum, count) => sum + count, 0) / counts.length;
  return mean === 0 ? 1 : Math.max(...counts) / mean;
}

/** Runs the seeded simulation of one chain for one client population (and an optional drain). */
export async function simulate(policy: Policy, population: Population, drain?: Drain): Promise<SimOutcome> {
  const events = createSeededRandom(SEED);
  const addresses = createSeededRandom(SEED + 1);
  const ctx = { nowMs: 0, random: createSeededRandom(SEED + 2) };
  const noise = createSeededRandom(SEED + 3);
  const servers = Array.from({ length: SERVERS }, (_, index) => newServer(index));
  const users: SimUser[] = Array.from({ length: USERS }, (_, index) => ({
    login: `user${index}`,
    fixedIp: `10.${index >> 8}.${index & 255}.${1 + (index % 200)}`,
    sessions: [],
  }));
  const outcome: SimOutcome = {
    endMaxMean: 0,
    worstMaxMean: 0,
    endMean: 0,
    resumeAttempts: 0,
    resumeHits: 0,
    connectionEvents: 0,
    failures: 0,
    ticks: 0,
    placedOnDrained: 0,
  };
  let nextSessionId = 0;

  const place = async (user: SimUser, index: number, tick: number, measured: boolean): Promise<void> => {
    const sessions: UserSession[] = user.sessions.map((session) => ({
      id: session.id,
      serverId: serverId(session.server),
      state: session.state,
      startedAt: session.startedTick,
    }));
    const input: StepInput = {
      action: "session/start",
      user: { login: user.login, sessions, groups: [], isAdmin: false, isManager: false },
      local: { clientIp: clientIp(population, user, index, addresses) },
      servers,
      data: {},
    };
    const result = await runChain(policy, input, ctx);
    const returning = user.sessions.some((session) => session.state === "suspended");
    if (measured) {
      outcome.connectionEvents++;
      if (returning) outcome.resumeAttempts++;
    }
    if (!result.ok) {
      if (measured) outcome.failures++;
      return;
    }
    const target = servers.findIndex((server) => server.serverId === result.serverId);
    const resumed = user.sessions
      .filter((session) => session.state === "suspended" && session.server === target)
      .sort((a, b) => b.startedTick - a.startedTick)[0];
    if (resumed !== undefined) {
      resumed.state = "running";
      if (measured) outcome.resumeHits++;
      return;
    }
    if (measured && servers[target]?.draining) outcome.placedOnDrained++;
    user.sessions.push({ id: `s${nextSessionId++}`, server: target, state: "running", startedTick: tick, suspendedTick: 0 });
    (servers[target] as ServerView).sessionCount++;
  };

  const end = (user: SimUser, session: SimSession): void => {
    user.sessions.splice(user.sessions.indexOf(session), 1);
    (servers[session.server] as ServerView).sessionCount--;
  };

  for (let tick = 0; tick < MAX_TICKS; tick++) {
    const measured = tick >= WARMUP_TICKS;
    if (measured && outcome.connectionEvents >= CONNECTION_EVENTS) break;
    outcome.ticks = tick + 1;
    const running = servers.map(() => 0);
    const suspended = servers.map(() => 0);
    for (const session of users.flatMap((user) => user.sessions)) {
      const tally = session.state === "running" ? running : suspended;
      tally[session.server] = (tally[session.server] ?? 0) + 1;
    }
    for (const [index, server] of servers.entries()) {
      const draining = drain !== undefined && drain.server === index && tick >= drain.fromTick && tick < drain.toTick;
      server.draining = draining;
      server.status = draining ? "draining" : "up";
      beat(server, running[index] ?? 0, suspended[index] ?? 0, noise);
    }
    for (const [index, user] of users.entries()) {
      for (const session of [...user.sessions]) {
        if (session.state === "suspended" && tick - session.suspendedTick >= SUSPENDED_TTL_TICKS) end(user, session);
      }
      const roll = events();
      const running = user.sessions.find((session) => session.state === "running");
      if (running !== undefined) {
        if (roll < P_SUSPEND) {
          running.state = "suspended";
          running.suspendedTick = tick;
        } else if (roll < P_SUSPEND + P_END) {
          end(user, running);
        }
      } else if (user.sessions.length > 0) {
        if (roll < P_RETURN) await place(user, index, tick, measured);
      } else if (roll < P_START) {
        await place(user, index, tick, measured);
      }
    }
    if (measured) {
      outcome.worstMaxMean = Math.max(outcome.worstMaxMean, maxOverMean(servers.map((server) => server.sessionCount)));
    }
  }
  const counts = servers.map((server) => server.sessionCount);
  outcome.endMaxMean = maxOverMean(counts);
  outcome.endMean = counts.reduce((sum, count) => sum + count, 0) / counts.length;
  return outcome;
}
