/** Bounded shutdown: give `stop` at most `timeoutMs`, then let the process exit anyway. */
import type { Timers } from "./deps.ts";

/**
 * Resolves `true` when `stop` settled in time, `false` when the deadline passed first.
 * Never rejects (trigger.dev `shutdown.ts`'s `stopWithin`).
 */
export async function stopWithin(stop: () => Promise<void>, timeoutMs: number, timers: Timers): Promise<boolean> {
  let handle: unknown = null;
  const deadline = new Promise<boolean>((resolve) => {
    handle = timers.setTimer(() => resolve(false), timeoutMs);
  });
  const stopped = stop().then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([stopped, deadline]);
  } finally {
    timers.clearTimer(handle);
  }
}
