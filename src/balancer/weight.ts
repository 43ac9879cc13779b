/**
 * Server weights for the weighted built-ins (round-robin, random, power-of-two, source-hash,
 * user-hash), read from static data `weight` like HAProxy's per-server `weight`. Anything but a
 * positive finite number counts as 1; to stop placing sessions on a server, drain it instead.
 */
import { type Random, randomIndex } from "./random.ts";
import type { ServerView } from "./types.ts";

export const DEFAULT_WEIGHT = 1;
/** Integer weights are capped like HAProxy's (`SRV_UWGHT_MAX` = 256). */
export const MAX_INTEGER_WEIGHT = 256;

export function weightOf(server: ServerView): number {
  const weight = server.staticData?.["weight"];
  return typeof weight === "number" && Number.isFinite(weight) && weight > 0 ? weight : DEFAULT_WEIGHT;
}

/** The weight as an integer in [1, 256], for algorithms that count slots. */
export function integerWeightOf(server: ServerView): number {
  return Math.min(MAX_INTEGER_WEIGHT, Math.max(1, Math.round(weightOf(server))));
}

/** One server drawn with probability proportional to its weight; undefined for an empty list. */
export function pickWeighted(servers: readonly ServerView[], random: Random): ServerView | undefined {
  const total = servers.reduce((sum, server) => sum + weightOf(server), 0);
  let remaining = random() * total;
  for (const server of servers) {
    remaining -= weightOf(server);
    if (remaining < 0) return server;
  }
  return servers[servers.length - 1];
}

/** A uniformly random element; undefined for an empty list. */
export function pickUniform<T>(items: readonly T[], random: Random): T | undefined {
  return items.length === 0 ? undefined : items[randomIndex(random, items.length)];
}

/** Servers sorted by serverId: the stable order hash and round-robin steps index into. */
export function sortedById(servers: readonly ServerView[]): ServerView[] {
  return [...servers].sort((a, b) => (a.serverId < b.serverId ? -1 : a.serverId > b.serverId ? 1 : 0));
}
