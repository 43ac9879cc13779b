/** What a placement request carries into the pool object, and what it answers. */
import type { ChainErrorCode, TraceEntry } from "../balancer/chain.ts";
import type { PolicyInput } from "../balancer/policy.ts";
import type { BalanceAction } from "../balancer/step.ts";
import type { Result } from "../core/result.ts";
import type { NodeSession, NodeStatus } from "../protocol.ts";

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
  /** Only servers whose control channel is connected: the profile's sessions are launched over it. */
  needsChannel?: boolean;
  /** A new session is refused (SESSION_LIMIT_REACHED) when the user already holds this many sessions plus pending starts in the pool. */
  maxUserSessions?: number;
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
  state: NodeSession["state"];
  startedAt: number;
  display?: string;
  /** The profile a launched session was started with. */
  profileId?: string;
  /** A launched session's last word from its launcher (why it is still starting), for the user. */
  message?: string;
  serverId: string;
  hostname: string;
  pool: string;
  /** Whether its server is up; sessions of down servers are listed but cannot be reached. */
  serverStatus: Exclude<NodeStatus, "pending">;
}

/** Why a placement failed; `code` is the broker error it becomes (422, 502, 503, 409 or 400). */
export interface SelectFailure {
  code: ChainErrorCode | "BAD_REQUEST" | "SESSION_LIMIT_REACHED";
  message: string;
  trace: TraceEntry[];
}

export type SelectOutcome = Result<SelectDecision, SelectFailure>;

/** The JSON a dry run answers: the decision or the failure, flat, with `ok`. */
export type DryRunAnswer = ({ ok: true } & SelectDecision) | ({ ok: false } & SelectFailure);

export function dryRunAnswer(outcome: SelectOutcome): DryRunAnswer {
  return outcome.ok ? { ok: true, ...outcome.value } : { ok: false, ...outcome.error };
}
