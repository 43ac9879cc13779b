/**
 * The control channel's `start` and `terminate`, answered by the node's session manager, and the
 * launched sessions as heartbeats report them. A start the launcher refused or failed answers
 * LAUNCH_FAILED with the launcher's message (already cleaned and clipped), which the broker shows
 * to the user; a session changed by a command is reported with a beat sent at once.
 */
import type { NodeSession } from "../../src/protocol.ts";
import { err, ok } from "../../src/core/result.ts";
import type { ChannelHandlers } from "../channel/peer.ts";
import type { SessionManager } from "./session-manager.ts";

export function launchHandlers(sessions: SessionManager, changed: () => void): Required<Pick<ChannelHandlers, "start" | "terminate">> {
  return {
    async start(request) {
      const answer = await sessions.start(request);
      if (!answer.ok) return err({ code: answer.error.code === "invalid-request" ? "BAD_MESSAGE" : "LAUNCH_FAILED", message: answer.error.message.slice(0, 1024) });
      changed();
      const { state, message } = answer.value;
      if (state === "queued") return ok({ state, message: message.slice(0, 1024) });
      return ok({ state, ...(answer.value.display ? { display: answer.value.display.slice(0, 64) } : {}), ...(message ? { message: message.slice(0, 1024) } : {}) });
    },
    async terminate(sessionId, reason) {
      const stopped = await sessions.stop(sessionId, reason);
      if (!stopped.ok) return err({ code: stopped.error.code === "unknown-session" ? "UNKNOWN_SESSION" : "FAILED", message: stopped.error.message.slice(0, 1024) });
      changed();
      return ok({});
    },
  };
}

/** The launched sessions in the heartbeat's shape (the launcher's name and the endpoint stay on the node). */
export function reportedSessions(sessions: SessionManager): NodeSession[] {
  return sessions.sessions().map((session) => ({
    id: session.id,
    user: session.user,
    state: session.state,
    startedAt: session.startedAt,
    profileId: session.profileId,
    ...(session.display ? { display: session.display.slice(0, 64) } : {}),
    ...(session.message ? { message: session.message.slice(0, 1024) } : {}),
  }));
}
