/** Polling until a condition holds, bounded in time: the one wait the harness, tests and scripts use. */

/**
 * Calls `check` every `intervalMs` until it returns true; throws after `timeoutMs`, naming `what`
 * and the last error `check` threw (a throwing check counts as "not yet").
 */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}
