/**
 * Delays between heartbeats. Pure: the random source is a parameter.
 * Full jitter after failures (AWS Architecture Blog, "Exponential Backoff and Jitter"; the
 * `jitterBackoff` of cloudflare/agents) spreads hundreds of agents that lost the broker at the
 * same moment over the whole window instead of bringing them back in a herd.
 */

/** Uniform in [0, min(capMs, baseMs · 2^attempt)]. `attempt` counts from 0. */
export function fullJitterBackoffMs(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const ceilingMs = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * (ceilingMs + 1));
}

/** The regular interval, ±10 % so nodes enrolled together do not beat together. */
export function jitteredIntervalMs(intervalMs: number, random: () => number): number {
  return Math.round(intervalMs * (0.9 + 0.2 * random()));
}

/** Near the cap, jittered down by up to 10 %: for answers that will not change soon (key refused). */
export function nearCapDelayMs(capMs: number, random: () => number): number {
  return Math.round(capMs * (0.9 + 0.1 * random()));
}
