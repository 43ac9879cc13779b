/**
 * The pool object's `wait_line` table (docs/storage.md), mirrored in memory like the other stores:
 * every change is written through before it is visible, so the line survives eviction and
 * restarts. Synchronous.
 */
import { type FailedOutcome, type PlacedOutcome, positionsOf, type QueuedStart, type WaitEntry, type WaitStatus } from "./wait-line.ts";

interface WaitRow extends Record<string, SqlStorageValue> {
  id: string;
  seq: number;
  user: string;
  profile_id: string;
  created_at: number;
  expires_at: number;
  deadline_at: number;
  start: string;
  status: string;
  placed: string | null;
  failed: string | null;
  settled_at: number | null;
}

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

function fromRow(row: WaitRow): WaitEntry {
  return {
    id: row.id,
    seq: row.seq,
    user: row.user,
    profileId: row.profile_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    deadlineAt: row.deadline_at,
    start: JSON.parse(row.start) as QueuedStart,
    status: row.status as WaitStatus,
    placed: parse<PlacedOutcome>(row.placed),
    failed: parse<FailedOutcome>(row.failed),
    settledAt: row.settled_at,
  };
}

export class WaitLineStore {
  private readonly sql: SqlStorage;
  private entries: WaitEntry[];
  /** Positions of the waiting entries as of the last change (null: changed since). */
  private positionsCache: ReadonlyMap<string, number> | null = null;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.entries = this.sql.exec<WaitRow>("SELECT * FROM wait_line ORDER BY seq").toArray().map(fromRow);
  }

  all(): readonly WaitEntry[] {
    return this.entries;
  }

  /**
   * Position (1-based) of every waiting entry, computed once per change of the line: a freed slot
   * wakes every long-polling waiter, and each one's view needs the positions.
   */
  positions(): ReadonlyMap<string, number> {
    this.positionsCache ??= positionsOf(this.entries);
    return this.positionsCache;
  }

  get(id: string): WaitEntry | undefined {
    return this.entries.find((entry) => entry.id === id);
  }

  waitingCount(): number {
    let count = 0;
    for (const entry of this.entries) if (entry.status === "waiting") count++;
    return count;
  }

  /** The user's waiting entry for a profile: a user holds at most one place per profile. */
  waitingOf(user: string, profileId: string): WaitEntry | undefined {
    return this.entries.find((entry) => entry.status === "waiting" && entry.user === user && entry.profileId === profileId);
  }

  /** Appends an entry at the back of the line; its seq is assigned here. */
  add(entry: Omit<WaitEntry, "seq" | "status" | "placed" | "failed" | "settledAt">): WaitEntry {
    const seq = (this.entries.at(-1)?.seq ?? 0) + 1;
    const added: WaitEntry = { ...entry, seq, status: "waiting", placed: null, failed: null, settledAt: null };
    this.sql.exec(
      "INSERT INTO wait_line (id, seq, user, profile_id, created_at, expires_at, deadline_at, start, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting')",
      added.id,
      seq,
      added.user,
      added.profileId,
      added.createdAt,
      added.expiresAt,
      added.deadlineAt,
      JSON.stringify(added.start),
    );
    this.entries.push(added);
    this.positionsCache = null;
    return added;
  }

  setExpiresAt(id: string, expiresAt: number): void {
    this.sql.exec("UPDATE wait_line SET expires_at = ? WHERE id = ?", expiresAt, id);
    this.update(id, { expiresAt });
  }

  placed(id: string, outcome: PlacedOutcome, nowMs: number): void {
    this.sql.exec("UPDATE wait_line SET status = 'placed', placed = ?, settled_at = COALESCE(settled_at, ?) WHERE id = ?", JSON.stringify(outcome), nowMs, id);
    const entry = this.get(id);
    this.update(id, { status: "placed", placed: outcome, settledAt: entry?.settledAt ?? nowMs });
  }

  failed(id: string, outcome: FailedOutcome, nowMs: number): void {
    this.sql.exec("UPDATE wait_line SET status = 'failed', failed = ?, settled_at = ? WHERE id = ?", JSON.stringify(outcome), nowMs, id);
    this.update(id, { status: "failed", failed: outcome, settledAt: nowMs });
  }

  delete(ids: readonly string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.sql.exec("DELETE FROM wait_line WHERE id = ?", id);
    const gone = new Set(ids);
    this.entries = this.entries.filter((entry) => !gone.has(entry.id));
    this.positionsCache = null;
  }

  private update(id: string, change: Partial<WaitEntry>): void {
    this.entries = this.entries.map((entry) => (entry.id === id ? { ...entry, ...change } : entry));
    this.positionsCache = null;
  }
}
