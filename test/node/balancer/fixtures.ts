/** Builders for balancer tests: a healthy idle server and a session/start input, overridable. */
import { createSeededRandom } from "../../../src/balancer/random.ts";
import type { StepContext, StepInput, StepUser, UserSession } from "../../../src/balancer/step.ts";
import type { ServerView } from "../../../src/balancer/types.ts";

export const NOW_MS = 1_800_000_000_000;

export function server(serverId: string, overrides: Partial<ServerView> = {}): ServerView {
  return {
    serverId,
    pool: "default",
    hostname: `${serverId}.example`,
    status: "up",
    draining: false,
    lastSeenAt: NOW_MS,
    loadAvg: [0.5, 0.5, 0.5],
    cpuCount: 8,
    cpuMhz: 2400,
    memTotalBytes: 16e9,
    memAvailableBytes: 8e9,
    sessions: [],
    sessionCount: 0,
    pendingSessions: 0,
    users: [],
    staticData: {},
    metrics: {},
    clientAddress: null,
    ...overrides,
  };
}

export function servers(count: number, overrides: Partial<ServerView> = {}): ServerView[] {
  return Array.from({ length: count }, (_, index) => server(`srv_${String(index).padStart(2, "0")}`, overrides));
}

export function user(overrides: Partial<StepUser> = {}): StepUser {
  return { login: "alice", sessions: [], groups: [], isAdmin: false, isManager: false, ...overrides };
}

export function session(serverId: string, state: UserSession["state"], startedAt = NOW_MS, id = `s-${serverId}-${state}`): UserSession {
  return { id, serverId, state, startedAt };
}

export function input(serverList: ServerView[], overrides: Partial<StepInput> = {}): StepInput {
  return { action: "session/start", user: user(), local: {}, servers: serverList, data: {}, ...overrides };
}

export function context(seed = 1): StepContext {
  return { nowMs: NOW_MS, random: createSeededRandom(seed) };
}

/** The serverIds of a step's array answer, or the answer itself. */
export function ids(result: unknown): unknown {
  return Array.isArray(result) ? result.map((entry: ServerView) => entry.serverId) : result;
}

/** The serverId of a built-in's choice (`{ serverId, reason }` or a string), else the answer. */
export function chosen(result: unknown): unknown {
  if (typeof result === "object" && result !== null && !Array.isArray(result) && "serverId" in result) {
    return (result as { serverId: unknown }).serverId;
  }
  return result;
}
