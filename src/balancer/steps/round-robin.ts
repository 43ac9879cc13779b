/**
 * round-robin: smooth weighted round-robin (nginx `ngx_http_upstream_get_peer`): every round each
 * server's `current` grows by its weight, the largest `current` is picked and loses the total
 * weight. With weights 5,1,1 this gives a a b a c a a rather than a a a a a b c.
 *
 * Stateless: the Durable Object supplies `data.roundRobinCounter`, increasing by one per decision,
 * and the step replays the cycle up to that position over the servers sorted by serverId. The
 * cycle is the sum of the integer weights (after dividing by their gcd), capped at
 * `MAX_CYCLE_LENGTH` by scaling weights down, so one decision costs at most cycle × servers.
 * A changed server list restarts the pattern; over time it is still fair.
 */
import { z } from "zod";
import type { Step } from "../step.ts";
import type { ServerView } from "../types.ts";
import { integerWeightOf, sortedById } from "../weight.ts";

export const MAX_CYCLE_LENGTH = 4096;

export const roundRobinParamsSchema = z.strictObject({});

export function createRoundRobinStep(): Step {
  return (input) => {
    const servers = sortedById(input.servers);
    if (servers.length === 0) return null;
    const weights = cycleWeights(servers);
    const cycle = weights.reduce((sum, weight) => sum + weight, 0);
    const counter = input.data?.["roundRobinCounter"];
    const turn = typeof counter === "number" && Number.isFinite(counter) ? Math.floor(counter) : 0;
    const position = ((turn % cycle) + cycle) % cycle;
    const chosen = servers[smoothWeightedPick(weights, position)] as ServerView;
    return { serverId: chosen.serverId, reason: `round-robin chose ${chosen.serverId} (turn ${turn})` };
  };
}

/** The index picked at round `position` (0-based) of a smooth weighted round-robin. */
export function smoothWeightedPick(weights: readonly number[], position: number): number {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const current = weights.map(() => 0);
  let picked = 0;
  for (let round = 0; round <= position; round++) {
    picked = 0;
    for (let index = 0; index < weights.length; index++) {
      current[index] = (current[index] ?? 0) + (weights[index] ?? 0);
      if ((current[index] ?? 0) > (current[picked] ?? 0)) picked = index;
    }
    current[picked] = (current[picked] ?? 0) - total;
  }
  return picked;
}

function cycleWeights(servers: readonly ServerView[]): number[] {
  const raw = servers.map(integerWeightOf);
  const divisor = raw.reduce(gcd);
  const reduced = raw.map((weight) => weight / divisor);
  const total = reduced.reduce((sum, weight) => sum + weight, 0);
  if (total <= MAX_CYCLE_LENGTH) return reduced;
  const scale = MAX_CYCLE_LENGTH / total;
  return reduced.map((weight) => Math.max(1, Math.floor(weight * scale)));
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
