/**
 * random: a server drawn with probability proportional to its static `weight` (HAProxy
 * `balance random` with draws = 1; X2Go's `random.choice` when it has no agent). Uses the
 * injected generator, so tests and simulations are reproducible.
 */
import { z } from "zod";
import type { Step } from "../step.ts";
import { pickWeighted } from "../weight.ts";

export const randomParamsSchema = z.strictObject({});

export function createRandomStep(): Step {
  return (input, ctx) => {
    const chosen = pickWeighted(input.servers, ctx.random);
    if (chosen === undefined) return null;
    return { serverId: chosen.serverId, reason: `random chose ${chosen.serverId} of ${input.servers.length}` };
  };
}
