/**
 * The server with the smallest score, ties broken at random. X2Go breaks ties by host name
 * (Python sorts `(value, name)` tuples), which sends every burst of starts on an idle farm to the
 * alphabetically first host; a random tie-break spreads them.
 */
import { type Random, randomIndex } from "./random.ts";
import type { ServerView } from "./types.ts";

/** Scores within this relative distance of the best count as a tie (float noise, not a lead). */
export const TIE_RELATIVE_TOLERANCE = 1e-9;

export interface ScoredServer {
  server: ServerView;
  score: number;
}

export function pickLowestScore(
  servers: readonly ServerView[],
  scoreOf: (server: ServerView) => number,
  random: Random,
): ScoredServer | undefined {
  const scored = servers.map((server) => ({ server, score: scoreOf(server) }));
  if (scored.length === 0) return undefined;
  const best = Math.min(...scored.map((entry) => entry.score));
  const limit = best + Math.abs(best) * TIE_RELATIVE_TOLERANCE;
  const tied = scored.filter((entry) => entry.score <= limit);
  return tied[randomIndex(random, tied.length)];
}

/** A score for the decision log: three significant digits, plain notation when it is short. */
export function formatScore(score: number): string {
  return Number(score.toPrecision(3)).toString();
}
