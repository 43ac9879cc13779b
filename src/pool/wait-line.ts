/**
 * The pool's wait line (pure rules): starts of a queueing profile that found every server full
 * wait here, first come first served, until the pool object places them through the normal chain.
 * The object stores entries (wait-line-store.ts) and runs placements (wait-line-keeper.ts); this
 * module decides order, positions, estimates, expiry and what a failed attempt means.
 */
import type { StartRequest } from "../channel-protocol.ts";
import type { ErrorCode } from "../core/errors.ts";
import type { SelectRequest } from "./select-request.ts";

/** How long a settled entry (placed or failed) stays readable, so its client can collect the answer. */
export const SETTLED_RETENTION_MS = 5 * 60_000;
/** An X2Go client cannot wait inside the protocol: its place is kept this long after each try. */
export const X2GO_GRACE_MS = 60_000;
/** At most this many waiting entries are tried per pass (each runs the chain). */
export const MAX_TRIES_PER_PASS = 32;
/** Estimates come from the gaps between recent placements from the line, when there are this many. */
export const ESTIMATE_MIN_SAMPLES = 3;
/** The most recent placement times kept for estimates (the pool's `meta.line_placed_at`). */
export const ESTIMATE_MAX_SAMPLES = 64;
const ESTIMATE_WINDOW_MS = 60 * 60_000;

/** What a waiting start needs to be placed (and launched) later without its client. */
export interface QueuedStart {
  select: SelectRequest;
  /** The launcher's start request but its session id (the reservation's), for a launcher profile. */
  launch: Omit<StartRequest, "sessionId"> | null;
}

export interface PlacedOutcome {
  serverId: string;
  hostname: string;
  clientAddress: string | null;
  reservationId?: string;
  resumeSessionId?: string;
  /** A launcher profile's session: `launching` until the node answered `start`. */
  launch?: { state: "launching" | "running" | "starting"; message?: string };
}

export interface FailedOutcome {
  code: ErrorCode;
  message: string;
}

export type WaitStatus = "waiting" | "placed" | "failed";

export interface WaitEntry {
  id: string;
  /** Order of arrival (first come, first served). */
  seq: number;
  user: string;
  profileId: string;
  createdAt: number;
  /** A waiting entry gives up then (an X2Go entry's grace moves it, never past `deadlineAt`). */
  expiresAt: number;
  /** createdAt + the profile's maxWaitSeconds. */
  deadlineAt: number;
  start: QueuedStart;
  status: WaitStatus;
  placed: PlacedOutcome | null;
  failed: FailedOutcome | null;
  settledAt: number | null;
}

/** An entry as its user and the admin see it. */
export interface WaitView {
  id: string;
  user: string;
  profileId: string;
  status: WaitStatus;
  /** 1 for the head; null once settled. */
  position: number | null;
  since: number;
  expiresAt: number;
  /** Present when recent placements from the line give an honest figure. */
  estimateMs?: number;
  placed?: PlacedOutcome;
  failed?: FailedOutcome;
}

/** Waiting entries in the order they are served. */
export function waitingInOrder(entries: readonly WaitEntry[]): WaitEntry[] {
  return entries.filter((entry) => entry.status === "waiting").sort((a, b) => a.seq - b.seq);
}

/** Position (1-based) of every waiting entry. */
export function positionsOf(entries: readonly WaitEntry[]): Map<string, number> {
  return new Map(waitingInOrder(entries).map((entry, index) => [entry.id, index + 1]));
}

/**
 * Mean gap between recent placements from the line times the position, or undefined when fewer
 * than ESTIMATE_MIN_SAMPLES placements happened in the last hour (no honest figure then).
 */
export function estimateWaitMs(position: number, placedAt: readonly number[], nowMs: number): number | undefined {
  const recent = placedAt.filter((at) => at > nowMs - ESTIMATE_WINDOW_MS).sort((a, b) => a - b);
  if (recent.length < ESTIMATE_MIN_SAMPLES) return undefined;
  const first = recent[0] as number;
  const last = recent[recent.length - 1] as number;
  const meanGapMs = (last - first) / (recent.length - 1);
  return Math.round(meanGapMs * position);
}

export function viewOf(entry: WaitEntry, positions: ReadonlyMap<string, number>, placedAt: readonly number[], nowMs: number): WaitView {
  const position = entry.status === "waiting" ? (positions.get(entry.id) ?? null) : null;
  const estimateMs = position === null ? undefined : estimateWaitMs(position, placedAt, nowMs);
  return {
    id: entry.id,
    user: entry.user,
    profileId: entry.profileId,
    status: entry.status,
    position,
    since: entry.createdAt,
    expiresAt: entry.expiresAt,
    ...(estimateMs === undefined ? {} : { estimateMs }),
    ...(entry.placed ? { placed: entry.placed } : {}),
    ...(entry.failed ? { failed: entry.failed } : {}),
  };
}

/** A placement failure that means "wait on": the servers are full. Anything else ends the wait with that error. */
export function keepsWaiting(code: string): boolean {
  return code === "NO_SERVER_AVAILABLE";
}

/** The failure an entry ends with when it waited too long. */
export function expiredFailure(entry: WaitEntry): FailedOutcome {
  const waitedS = Math.round((entry.expiresAt - entry.createdAt) / 1000);
  return { code: "NO_LONGER_QUEUED", message: `no server became free for profile ${entry.profileId} within ${waitedS} s; you have left the line (start again to rejoin it)` };
}

export const REMOVED_FAILURE: FailedOutcome = { code: "NO_LONGER_QUEUED", message: "an administrator removed you from the line" };

/** When the object must next look at the line: an expiry, or a settled entry to purge. */
export function nextLineWakeAt(entries: readonly WaitEntry[]): number | null {
  let next: number | null = null;
  for (const entry of entries) {
    const at = entry.status === "waiting" ? entry.expiresAt : (entry.settledAt ?? entry.createdAt) + SETTLED_RETENTION_MS;
    if (next === null || at < next) next = at;
  }
  return next;
}
