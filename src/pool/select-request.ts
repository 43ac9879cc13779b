/** What a placement request carries into the pool object, and what it answers. */
import type { TraceEntry } from "../balancer/chain.ts";
import type { PolicyInput } from "../balancer/policy.ts";
import type { BalanceAction } from "../balancer/step.ts";

export interface SelectRequest {
  action: BalanceAction;
  user: { login: string; groups: string[]; isAdmin: boolean; isManager: boolean; serverId?: string };
  local: { clientIp?: string };
  data: Record<string, unknown>;
  /** Replaces the pool's policy for this request (a profile's override, or one being validated). */
  policy?: PolicyInput;
  /** Runs the chain without reserving, counting or logging anything. */
  dryRun?: boolean;
  /** Only these servers (by enrolled hostname) are candidates: a profile's host list. */
  hostnames?: string[];
}

export interface SelectDecision {
  serverId: string;
  hostname: string;
  clientAddress: string | null;
  reason: string;
  trace: TraceEntry[];
  /** Set when the chosen server holds a session of the user to reconnect to. */
  resumeSessionId?: string;
  /** Set when a new session was placed: the pending session counted on the server. */
  reservationId?: string;
}

/** One desktop session somewhere in a pool, with where it runs. */
export interface PoolSession {
  id: string;
  user: string;
  state: "running" | "suspended";
  startedAt: number;
  display?: string;
  serverId: string;
  hostname: string;
  pool: string;
  /** Whether its server is up; sessions of down servers are listed but cannot be reached. */
  serverStatus: "up" | "down" | "draining";
}

export type SelectOutcome =
  | ({ ok: true } & SelectDecision)
  | { ok: false; code: "POLICY_REJECTED" | "POLICY_INVALID_RESULT" | "NO_SERVER_AVAILABLE" | "BAD_REQUEST"; message: string; trace: TraceEntry[] };
