/**
 * power-of-two: "the power of two random choices" (Mitzenmacher 2001; HAProxy `balance random(2)`,
 * src/backend.c `get_server_rnd`, which compares served / weight): draw two distinct servers by weight,
 * keep the one with the lower (sessionCount + 1) / weight, then the lower one-minute load per CPU;
 * a remaining tie keeps the first draw. Nearly as even as least-loaded while never herding a
 * burst of concurrent starts onto the single emptiest server. One candidate is chosen outright.
 */
import { z } from "zod";
import { loadPerCpu } from "../load-factor.ts";
import type { Step } from "../step.ts";
import type { ServerView } from "../types.ts";
import { pickWeighted, weightOf } from "../weight.ts";

export const powerOfTwoParamsSchema = z.strictObject({});

export function createPowerOfTwoStep(): Step {
  return (input, ctx) => {
    const first = pickWeighted(input.servers, ctx.random);
    if (first === undefined) return null;
    const second = pickWeighted(
      input.servers.filter((server) => server !== first),
      ctx.random,
    );
    if (second === undefined) return { serverId: first.serverId, reason: `power-of-two chose ${first.serverId}, the only candidate` };
    const chosen = compareLoad(second, first) < 0 ? second : first;
    const other = chosen === first ? second : first;
    return {
      serverId: chosen.serverId,
      reason: `power-of-two chose ${chosen.serverId} (${chosen.sessionCount ?? 0} sessions) over ${other.serverId} (${other.sessionCount ?? 0})`,
    };
  };
}

/** Negative when `a` is less loaded than `b`. */
function compareLoad(a: ServerView, b: ServerView): number {
  const bySessions = ((a.sessionCount ?? 0) + 1) / weightOf(a) - ((b.sessionCount ?? 0) + 1) / weightOf(b);
  if (bySessions !== 0) return bySessions;
  return (loadPerCpu(a) ?? 0) - (loadPerCpu(b) ?? 0);
}
