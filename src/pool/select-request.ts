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
}

export interface SelectDecision {
  serverId: string;
  hostname: string;
  clientAddress: string | null;
  reason: string;
  trace: TraceEntry[];
  /** Set when the chosen server holds a session of the user to reconnect to. */
  resumeSessionId?: string;
}

export type SelectOutcome =
  | ({ ok: true } & SelectDecision)
  | { ok: false; code: "POLICY_REJECTED" | "POLICY_INVALID_RESULT" | "NO_SERVER_AVAILABLE" | "BAD_REQUEST"; message: string; trace: TraceEntry[] };
