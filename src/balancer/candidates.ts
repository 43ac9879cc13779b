/**
 * Input preparation: which servers a chain may see at all, before any step runs.
 * - `down` servers are never candidates.
 * - Draining servers are removed, except those holding one of the user's sessions, which stay
 *   visible so the user can reconnect to it (the same rule for `user/login` and `session/start`,
 *   as FastX keeps a session's server "well defined" while it lives).
 * Idempotent: applying it to its own output changes nothing.
 */
import type { BalanceAction, StepUser } from "./step.ts";
import type { ServerView } from "./types.ts";

/**
 * Both actions share one rule today; `_action` stays in the signature because the rule is
 * action-specific in FastX (a server with "Start sessions" unchecked leaves only the start chain).
 */
export function candidateServers(
  all: readonly ServerView[],
  _action: BalanceAction,
  user: Pick<StepUser, "sessions">,
): ServerView[] {
  const holding = new Set(user.sessions.map((session) => session.serverId));
  return all.filter((server) => {
    if (server.status === "down") return false;
    const draining = server.draining || server.status === "draining";
    return !draining || holding.has(server.serverId);
  });
}
