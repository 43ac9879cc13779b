/**
 * The step contract (decision 4 in docs/decisions.md, FastX load-balancing semantics). A policy is an ordered
 * chain of steps; each receives the same shaped input and answers with one of:
 * - a serverId string: chosen, the chain stops;
 * - an array of servers: the filtered or reordered list the next step receives;
 * - a falsy value: no opinion, the next step receives the same input;
 * - a thrown error: the request is refused and the message is shown to the user.
 * Built-in steps may also answer `{ serverId, reason }` to explain a choice; admin scripts use
 * only the plain FastX forms. Steps are pure: no I/O, no clock, no `Math.random()`.
 */
import type { NodeSession } from "../protocol.ts";
import type { Random } from "./random.ts";
import type { ServerView } from "./types.ts";

export type BalanceAction = "user/login" | "session/start";

/** One of the user's sessions anywhere in the pool. `startedAt` is epoch milliseconds. */
export interface UserSession {
  id: string;
  serverId: string;
  state: NodeSession["state"];
  startedAt: number;
}

export interface StepUser {
  login: string;
  /** The server the user asked for when logging in, if any (FastX `user.serverId`). */
  serverId?: string;
  /** The user's sessions cluster-wide, running or suspended. */
  sessions: UserSession[];
  groups: string[];
  isAdmin: boolean;
  isManager: boolean;
}

export interface StepLocal {
  /** The server the request arrived through, if any. */
  serverId?: string;
  /** The client's address as the edge saw it (`CF-Connecting-IP`). */
  clientIp?: string;
}

/**
 * What every step receives. `data` is the request's own data (e.g. `require`, `profile`, `group`,
 * `avoid`, `roundRobinCounter`); steps read it defensively, since it is unknown-shaped.
 */
export interface StepInput {
  action: BalanceAction;
  user: StepUser;
  local: StepLocal;
  servers: ServerView[];
  data: Record<string, unknown>;
}

/** A built-in's explained choice: `reason` is a short sentence for the decision log. */
export interface StepChoice {
  serverId: string;
  reason?: string;
}

export type StepResult = string | StepChoice | ServerView[] | null | undefined;

/** Injected by the caller. `nowMs` is epoch milliseconds. */
export interface StepContext {
  nowMs: number;
  random: Random;
}

/** A built-in step: a pure, synchronous function of its input and context. */
export type Step = (input: StepInput, ctx: StepContext) => StepResult;
