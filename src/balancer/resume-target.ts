/**
 * Which of a user's sessions to reconnect to, after the X2Go broker's `select_session`
 * (base_broker.py l.1421-1476): a suspended session first, else a running one, else one still
 * starting (launched, waiting for its scheduler); among equals the most recently started wins.
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

const RANK: Record<UserSession["state"], number> = { suspended: 2, running: 1, starting: 0 };

function ranksAbove(candidate: UserSession, current: UserSession): boolean {
  if (RANK[candidate.state] !== RANK[current.state]) return RANK[candidate.state] > RANK[current.state];
  return candidate.startedAt > current.startedAt;
}
