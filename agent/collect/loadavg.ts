/** Parses `/proc/loadavg`: "0.52 0.58 0.59 2/1234 56789". */

/** The 1, 5 and 15 minute load averages (runnable tasks, not a percentage). */
export type LoadAvg = [number, number, number];

/** @throws Error if the first three fields are not non-negative numbers. */
export function parseLoadAvg(text: string): LoadAvg {
  const fields = text.trim().split(/\s+/).slice(0, 3).map(Number);
  const [one, five, fifteen] = fields;
  if (one === undefined || five === undefined || fifteen === undefined || fields.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new Error(`unreadable loadavg: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return [one, five, fifteen];
}
