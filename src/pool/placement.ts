/**
 * Placement rules (pure): reservations make concurrent starts see each other. A chosen server
 * gets a reservation, a pending session counted as load until a heartbeat shows the user's new
 * session there or the reservation expires.
 */
import type { UserSession } from "../balancer/step.ts";
import type { NodeSession } from "../protocol.ts";

/** How long a placement counts as load without a heartbeat confirming it. */
export const RESERVATION_TTL_MS = 60_000;

export interface Reservation {
  id: string;
  serverId: string;
  user: string;
  createdAt: number;
  expiresAt: number;
  /** How many sessions the user had on that server when the reservation was made. */
  baselineSessions: number;
  /** Set once the node launched the session: what its launcher answered (the session's id is the reservation's). */
  launch?: LaunchInfo;
}

export interface LaunchInfo {
  state: "starting" | "running";
  profileId: string;
  /** The launcher's message (queue position, …), for the user. */
  message?: string;
  display?: string;
}

/** Pending placements per server (a launched session's reservation counts as its session instead). */
export function pendingByServer(reservations: readonly Reservation[]): Map<string, number> {
  const pending = new Map<string, number>();
  for (const reservation of reservations) if (!reservation.launch) pending.set(reservation.serverId, (pending.get(reservation.serverId) ?? 0) + 1);
  return pending;
}

/** The user's sessions across the pool, as the balancer's `user.sessions`. */
export function sessionsOfUser(nodes: ReadonlyArray<{ serverId: string; sessions: readonly NodeSession[] }>, login: string): UserSession[] {
  const found: UserSession[] = [];
  for (const node of nodes) {
    for (const session of node.sessions) {
      if (session.user === login) found.push({ id: session.id, serverId: node.serverId, state: session.state, startedAt: session.startedAt });
    }
  }
  return found;
}

export function countUserSessions(sessions: readonly NodeSession[], login: string): number {
  let count = 0;
  for (const session of sessions) if (session.user === login) count++;
  return count;
}

/**
 * The reservations a new heartbeat confirms: a launched session's when the beat lists its id;
 * of the others, for each user, as many of their oldest reservations on this server as the beat
 * shows sessions beyond the oldest one's baseline. `reservations` must all be for the server that
 * sent `sessions`.
 */
export function confirmedReservations(reservations: readonly Reservation[], sessions: readonly NodeSession[]): string[] {
  const listed = new Set(sessions.map((session) => session.id));
  const confirmed: string[] = [];
  const byUser = new Map<string, Reservation[]>();
  for (const reservation of reservations) {
    if (listed.has(reservation.id)) confirmed.push(reservation.id);
    else if (!reservation.launch) byUser.set(reservation.user, [...(byUser.get(reservation.user) ?? []), reservation]);
  }
  for (const [user, held] of byUser) {
    const ordered = [...held].sort((a, b) => a.createdAt - b.createdAt);
    const baseline = ordered[0]?.baselineSessions ?? 0;
    const newSessions = Math.max(0, countUserSessions(sessions, user) - baseline);
    confirmed.push(...ordered.slice(0, newSessions).map((reservation) => reservation.id));
  }
  return confirmed;
}
