/**
 * resume: send the user back to a session they already have (X2Go `select_session`,
 * base_broker.py l.1421-1476; FastX: a running session's server is "well defined").
 * - session/start: the server holding the user's most recent suspended session, else the most
 *   recent running one.
 * - user/login: the server of the user's existing session, suspended preferred (same order).
 * Only servers in the input list count; with none, the step passes.
 */
import { z } from "zod";
import { sessionToResume } from "../resume-target.ts";
import type { Step } from "../step.ts";

export const resumeParamsSchema = z.strictObject({});

export function createResumeStep(): Step {
  return (input) => {
    const listed = new Set(input.servers.map((server) => server.serverId));
    const session = sessionToResume(input.user?.sessions ?? [], (serverId) => listed.has(serverId));
    if (session === undefined) return null;
    return {
      serverId: session.serverId,
      reason: `resume chose ${session.serverId}, which holds the user's ${session.state} session ${session.id}`,
    };
  };
}
