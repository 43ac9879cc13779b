/**
 * Liveness rules (pure): a node is `down` once `MISSED_BEATS_BEFORE_DOWN` intervals pass without
 * a good heartbeat (HAProxy's `fall 3`), and `up` again on the next good one (`rise 1`).
 */
import { MISSED_BEATS_BEFORE_DOWN } from "../protocol.ts";

export interface LivenessInput {
  serverId: string;
  status: "up" | "down";
  lastSeenAt: number | null;
}

/** When a node that was last seen at `lastSeenAt` counts as down, in epoch ms. */
export function downDeadline(lastSeenAt: number, intervalMs: number): number {
  return lastSeenAt + MISSED_BEATS_BEFORE_DOWN * intervalMs;
}

/** The up nodes whose deadline has passed at `nowMs`. */
export function expiredNodes(nodes: LivenessInput[], intervalMs: number, nowMs: number): string[] {
  return nodes
    .filter((node) => node.status === "up" && (node.lastSeenAt === null || nowMs >= downDeadline(node.lastSeenAt, intervalMs)))
    .map((node) => node.serverId);
}

/** The next time the liveness alarm must run, or null when no node is up. */
export function nextAlarmAt(nodes: Iterable<LivenessInput>, intervalMs: number): number | null {
  let earliest: number | null = null;
  for (const node of nodes) {
    if (node.status !== "up" || node.lastSeenAt === null) continue;
    const deadline = downDeadline(node.lastSeenAt, intervalMs);
    if (earliest === null || deadline < earliest) earliest = deadline;
  }
  return earliest;
}
