/**
 * Randomness as a parameter (style rule 1, Envoy's injected `RandomGenerator`): steps never call
 * `Math.random()`. The Durable Object passes `Math.random`; tests and simulations pass a seeded
 * generator so every decision is reproducible.
 *
 * `createSeededRandom` is mulberry32 (Tommy Ettinger, public domain): 32-bit state, period 2^32,
 * passes gjrand/PractRand up to a few GB, which is plenty for tie-breaks and simulations.
 */

/** Returns a uniform float in [0, 1). */
export type Random = () => number;

export function createSeededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A uniform index in [0, length); tolerates a generator that returns exactly 1. */
export function randomIndex(random: Random, length: number): number {
  return Math.min(length - 1, Math.floor(random() * length));
}
