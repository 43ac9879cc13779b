/**
 * The broker's log, with levels. `LOG_LEVEL` (a wrangler var: debug, info, warn or error; default
 * info) is the least severe level written. Expected refusals (a bad token, a throttled sign-in)
 * are `warn`: operators see them, and the test suites set `error` so that a real failure stands
 * out. Workers Logs collect what is written to the console.
 */
const LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LEVELS)[number];

let threshold = LEVELS.indexOf("info");

/** Sets the least severe level written; unknown values leave the default. Idempotent. */
export function configureLog(level: string | undefined): void {
  const index = LEVELS.indexOf((level ?? "info").toLowerCase() as LogLevel);
  threshold = index === -1 ? LEVELS.indexOf("info") : index;
}

function writes(level: LogLevel): boolean {
  return LEVELS.indexOf(level) >= threshold;
}

export const log = {
  debug(message: string): void {
    if (writes("debug")) console.debug(message);
  },
  info(message: string): void {
    if (writes("info")) console.log(message);
  },
  warn(message: string): void {
    if (writes("warn")) console.warn(message);
  },
  error(message: string, cause?: unknown): void {
    if (writes("error")) console.error(message, ...(cause === undefined ? [] : [cause]));
  },
};
