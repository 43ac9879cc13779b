/**
 * Facts about the Workers runtime this broker is built for, from their one source: wrangler.toml.
 * The script sandbox loads admin isolates with the Worker's own compatibility date.
 */
import wranglerConfig from "../../wrangler.toml?raw" with { type: "text" };

function configured(key: string): string {
  const value = new RegExp(`^${key}\\s*=\\s*"([^"]+)"`, "m").exec(wranglerConfig)?.[1];
  if (!value) throw new Error(`wrangler.toml has no ${key}`);
  return value;
}

/** The Worker's `compatibility_date` (YYYY-MM-DD). */
export const COMPATIBILITY_DATE = configured("compatibility_date");
