/**
 * What a balancing step sees. The pool Durable Object builds these from live state; steps are
 * pure functions of them (decision 4 in docs/decisions.md: FastX semantics).
 */
import type { NodeSession, NodeStatus, StaticData } from "../protocol.ts";

/** A server as the balancer and the admin API see it. Times are epoch milliseconds. */
export interface ServerView {
  serverId: string;
  pool: string;
  hostname: string;
  status: NodeStatus;
  draining: boolean;
  lastSeenAt: number | null;
  loadAvg: [number, number, number];
  cpuCount: number;
  cpuMhz: number;
  memTotalBytes: number;
  memAvailableBytes: number;
  sessions: NodeSession[];
  /** Sessions reported by the last heartbeat plus placements not yet seen in one. */
  sessionCount: number;
  /** Placements made by the broker that no heartbeat has confirmed yet. */
  pendingSessions: number;
  users: string[];
  /** Agent static data merged with the admin's overrides (overrides win). */
  staticData: StaticData;
  metrics: Record<string, number | string | boolean>;
  clientAddress: string | null;
}
