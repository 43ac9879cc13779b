/**
 * Which of a user's sessions to reconnect to, after the X2Go broker's `select_session`
 * (base_broker.py l.1421-1476): a suspended session first, else a running one; among equals the
 * most recently started wins.
 */
import type { UserSession } from "./step.ts";

/** The session to resume among those whose server passes `isEligible`, or undefined. */
export function sessionToResume(
  sessions: readonly UserSession[],
  isEligible: (serverId: string) => boolean,
): UserSession | undefined {
  let best: UserSession | undefined;
  for (const session of sessions) {
    if (!isEligible(session.serverId)) continue;
    if (best === undefined || ranksAbove(session, best)) best = session;
  }
  return best;
}

function ranksAbove(candidate: UserSession, current: UserSession): boolean {
  const candidateSuspended = candidate.state === "suspended";
  const currentSuspended = current.state === "suspended";
  if (candidateSuspended !== currentSuspended) return candidateSuspended;
  return candidate.startedAt > current.startedAt;
}
