/**
 * least-loaded: the X2Go broker's load-checker selection (base_broker.py l.1479-1589, agent
 * `checkload`): score = (sessionCount + 1) / load_factor, smallest wins; see `../load-factor.ts`
 * for load_factor. Differences from X2Go, both deliberate:
 * - X2Go drops all load data when one host lacks it; here such a server gets a neutral factor,
 *   the median of the others' (or 1 when none reported), so session counts still decide.
 * - Ties go to a random server, not the alphabetically first (`../lowest-score.ts`).
 */
import { z } from "zod";
import { loadFactor } from "../load-factor.ts";
import { formatScore, pickLowestScore } from "../lowest-score.ts";
import type { Step } from "../step.ts";
import type { ServerView } from "../types.ts";

export const leastLoadedParamsSchema = z.strictObject({});

export function createLeastLoadedStep(): Step {
  return (input, ctx) => {
    const factors = new Map(input.servers.map((server) => [server.serverId, loadFactor(server)]));
    const neutral = median([...factors.values()].filter((factor): factor is number => factor !== null)) ?? 1;
    const scoreOf = (server: ServerView) =>
      ((server.sessionCount ?? 0) + 1) / (factors.get(server.serverId) ?? neutral);
    const best = pickLowestScore(input.servers, scoreOf, ctx.random);
    if (best === undefined) return null;
    return {
      serverId: best.server.serverId,
      reason: `least-loaded chose ${best.server.serverId} (score ${formatScore(best.score)}, ${best.server.sessionCount ?? 0} sessions)`,
    };
  };
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
