/**
 * fewest-sessions: HAProxy `leastconn` on sessions (src/lb_fwlc.c): the server with the smallest
 * (sessionCount + 1) / weight wins, so with equal weights simply the fewest sessions; ties go
 * to a random server. sessionCount includes unconfirmed placements, so bursts spread out.
 */
import { z } from "zod";
import { formatScore, pickLowestScore } from "../lowest-score.ts";
import type { Step } from "../step.ts";
import { weightOf } from "../weight.ts";

export const fewestSessionsParamsSchema = z.strictObject({});

export function createFewestSessionsStep(): Step {
  return (input, ctx) => {
    const best = pickLowestScore(
      input.servers,
      (server) => ((server.sessionCount ?? 0) + 1) / weightOf(server),
      ctx.random,
    );
    if (best === undefined) return null;
    return {
      serverId: best.server.serverId,
      reason: `fewest-sessions chose ${best.server.serverId} (${best.server.sessionCount ?? 0} sessions, score ${formatScore(best.score)})`,
    };
  };
}
