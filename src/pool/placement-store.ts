/**
 * The pool object's placement tables: reservations (pending sessions) and the decision log.
 * Reservations are also kept in memory (every select counts them); writes go to both, like
 * `NodeStore`. Synchronous; see docs/storage.md.
 */
import type { TraceEntry } from "../balancer/chain.ts";
import type { LaunchInfo, Reservation } from "./placement.ts";

/** How many decisions the log keeps (oldest dropped first). */
export const DECISION_LOG_SIZE = 200;
/** How many of those one user may fill, so one user's requests never crowd the others out. */
export const DECISIONS_PER_USER = 20;

export interface Decision {
  id: number;
  at: number;
  action: string;
  user: string;
  ok: boolean;
  serverId: string | null;
  /** The reason of a choice, or the error code and message of a failure. */
  reason: string;
  resumeSessionId: string | null;
  trace: TraceEntry[];
}

interface ReservationRow extends Record<string, SqlStorageValue> {
  id: string;
  server_id: string;
  user: string;
  created_at: number;
  expires_at: number;
  baseline_sessions: number;
  launch: string | null;
}

interface DecisionRow extends Record<string, SqlStorageValue> {
  id: number;
  at: number;
  action: string;
  user: string;
  ok: number;
  server_id: string | null;
  reason: string;
  resume_session_id: string | null;
  trace: string;
}

export class PlacementStore {
  private readonly sql: SqlStorage;
  private reservations: Reservation[];

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.reservations = this.sql.exec<ReservationRow>("SELECT * FROM reservations").toArray().map(fromReservationRow);
  }

  /** Drops reservations that expired at `nowMs` and returns the live ones. */
  liveReservations(nowMs: number): Reservation[] {
    if (this.reservations.some((reservation) => reservation.expiresAt <= nowMs)) {
      this.sql.exec("DELETE FROM reservations WHERE expires_at <= ?", nowMs);
      this.reservations = this.reservations.filter((reservation) => reservation.expiresAt > nowMs);
    }
    return this.reservations;
  }

  /** When the next live reservation lapses, or null. */
  earliestExpiry(nowMs: number): number | null {
    let earliest: number | null = null;
    for (const reservation of this.liveReservations(nowMs)) if (earliest === null || reservation.expiresAt < earliest) earliest = reservation.expiresAt;
    return earliest;
  }

  reservationsFor(serverId: string, nowMs: number): Reservation[] {
    return this.reservations.filter((reservation) => reservation.serverId === serverId && reservation.expiresAt > nowMs);
  }

  addReservation(reservation: Reservation): void {
    this.sql.exec(
      "INSERT INTO reservations (id, server_id, user, created_at, expires_at, baseline_sessions) VALUES (?, ?, ?, ?, ?, ?)",
      reservation.id,
      reservation.serverId,
      reservation.user,
      reservation.createdAt,
      reservation.expiresAt,
      reservation.baselineSessions,
    );
    this.reservations = [...this.reservations, reservation];
  }

  /** Records what the node's launcher answered for a reservation (a no-op when a beat confirmed it meanwhile). */
  markLaunched(id: string, launch: LaunchInfo): void {
    if (!this.reservations.some((reservation) => reservation.id === id)) return;
    this.sql.exec("UPDATE reservations SET launch = ? WHERE id = ?", JSON.stringify(launch), id);
    this.reservations = this.reservations.map((reservation) => (reservation.id === id ? { ...reservation, launch } : reservation));
  }

  deleteReservations(ids: readonly string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.sql.exec("DELETE FROM reservations WHERE id = ?", id);
    const gone = new Set(ids);
    this.reservations = this.reservations.filter((reservation) => !gone.has(reservation.id));
  }

  deleteReservationsOf(serverId: string): void {
    this.sql.exec("DELETE FROM reservations WHERE server_id = ?", serverId);
    this.reservations = this.reservations.filter((reservation) => reservation.serverId !== serverId);
  }

  logDecision(decision: Omit<Decision, "id">): void {
    this.sql.exec(
      "INSERT INTO decisions (at, action, user, ok, server_id, reason, resume_session_id, trace) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      decision.at,
      decision.action,
      decision.user,
      decision.ok ? 1 : 0,
      decision.serverId,
      decision.reason,
      decision.resumeSessionId,
      JSON.stringify(decision.trace),
    );
    this.sql.exec(
      "DELETE FROM decisions WHERE user = ? AND id <= (SELECT id FROM decisions WHERE user = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
      decision.user,
      decision.user,
      DECISIONS_PER_USER,
    );
    this.sql.exec("DELETE FROM decisions WHERE id <= (SELECT id FROM decisions ORDER BY id DESC LIMIT 1 OFFSET ?)", DECISION_LOG_SIZE);
  }

  recentDecisions(limit: number): Decision[] {
    return this.sql
      .exec<DecisionRow>("SELECT * FROM decisions ORDER BY id DESC LIMIT ?", limit)
      .toArray()
      .map((row) => ({
        id: row.id,
        at: row.at,
        action: row.action,
        user: row.user,
        ok: row.ok === 1,
        serverId: row.server_id,
        reason: row.reason,
        resumeSessionId: row.resume_session_id,
        trace: JSON.parse(row.trace) as TraceEntry[],
      }));
  }
}

function fromReservationRow(row: ReservationRow): Reservation {
  return {
    id: row.id,
    serverId: row.server_id,
    user: row.user,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    baselineSessions: row.baseline_sessions,
    ...(row.launch ? { launch: JSON.parse(row.launch) as LaunchInfo } : {}),
  };
}
