/**
 * Single use of broker assertions: every accepted `jti` is remembered until the assertion would
 * no longer verify anyway (exp plus the clock tolerance), so the same assertion presented again
 * inside that window is refused.
 *
 * Memory is bounded: only assertions that verified with this node's key are remembered (only the
 * broker can mint those), each for at most lifetime + tolerance (90 s), and never more than
 * `maxEntries` at once (about 100 bytes each). At the cap the cache refuses (fails closed) rather
 * than forget an id that could then be replayed; with the default cap that takes more than
 * 700 accepted connections a second, sustained for 90 s.
 */

export const DEFAULT_REPLAY_CACHE_ENTRIES = 65_536;

export type SpendVerdict = "fresh" | "replayed" | "full";

export interface ReplayCache {
  /** Marks `jti` used until `forgetAtMs`; "replayed" if it was already, "full" at the cap. */
  spend(jti: string, forgetAtMs: number, nowMs: number): SpendVerdict;
  readonly size: number;
}

export function createReplayCache(maxEntries = DEFAULT_REPLAY_CACHE_ENTRIES): ReplayCache {
  /** jti → forget-at (epoch ms). Insertion order is close to expiry order (every lifetime is the same). */
  const seen = new Map<string, number>();

  const sweep = (nowMs: number, everything: boolean) => {
    for (const [jti, forgetAtMs] of seen) {
      if (forgetAtMs <= nowMs) seen.delete(jti);
      else if (!everything) return;
    }
  };

  return {
    spend(jti, forgetAtMs, nowMs) {
      sweep(nowMs, false);
      const known = seen.get(jti);
      if (known !== undefined && known > nowMs) return "replayed";
      if (seen.size >= maxEntries) sweep(nowMs, true);
      if (seen.size >= maxEntries) return "full";
      seen.set(jti, forgetAtMs);
      return "fresh";
    },
    get size() {
      return seen.size;
    },
  };
}
