/**
 * Builds the heartbeat body and its exact JSON text, kept under `MAX_HEARTBEAT_BODY_BYTES`:
 * sessions that do not fit are dropped (metric `sessionsTruncated: true`, `sessionsDropped`).
 */
import { Buffer } from "node:buffer";
import { type HeartbeatBody, MAX_HEARTBEAT_BODY_BYTES, type NodeSession, type StaticData } from "../src/protocol.ts";
import type { ProcMetrics } from "./collect/proc.ts";

/** The protocol caps both lists at this many entries. */
const MAX_LIST_ENTRIES = 1000;

export type Metrics = HeartbeatBody["metrics"];

export interface BodyParts {
  proc: ProcMetrics;
  sessions: NodeSession[];
  /** Users reported by the session source; defaults to the distinct users of `sessions`. */
  users?: string[];
  staticData: StaticData;
  metrics: Metrics;
}

export interface EncodedBody {
  body: HeartbeatBody;
  /** `JSON.stringify(body)`: the exact bytes to send and to hash. */
  text: string;
}

function distinctUsers(sessions: NodeSession[]): string[] {
  return [...new Set(sessions.map((session) => session.user))];
}

/** The largest n in [0, max] with fits(n), given that fits is monotone (true then false). */
function largestFitting(max: number, fits: (n: number) => boolean): number {
  let low = 0;
  let high = max;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** @throws Error if the body does not fit even without sessions and users (static data too large). */
export function encodeHeartbeatBody(parts: BodyParts, maxBytes: number = MAX_HEARTBEAT_BODY_BYTES): EncodedBody {
  const allSessions = parts.sessions;
  const allUsers = (parts.users ?? distinctUsers(allSessions)).slice(0, MAX_LIST_ENTRIES);
  const build = (sessionCount: number, userCount: number): EncodedBody => {
    const dropped = allSessions.length - sessionCount;
    const body: HeartbeatBody = {
      ...parts.proc,
      sessions: allSessions.slice(0, sessionCount),
      users: allUsers.slice(0, userCount),
      staticData: parts.staticData,
      metrics: dropped > 0 ? { ...parts.metrics, sessionsTruncated: true, sessionsDropped: dropped } : parts.metrics,
    };
    return { body, text: JSON.stringify(body) };
  };
  const fits = (encoded: EncodedBody) => Buffer.byteLength(encoded.text, "utf8") <= maxBytes;

  const maxSessions = Math.min(allSessions.length, MAX_LIST_ENTRIES);
  const full = build(maxSessions, allUsers.length);
  if (fits(full)) return full;
  if (fits(build(0, allUsers.length))) {
    return build(largestFitting(maxSessions, (n) => fits(build(n, allUsers.length))), allUsers.length);
  }
  if (!fits(build(0, 0))) throw new Error(`heartbeat body exceeds ${maxBytes} bytes even without sessions; shrink the static data`);
  return build(0, largestFitting(allUsers.length, (n) => fits(build(0, n))));
}
