/** Small, pure formatting helpers shared by the dashboard's pages and its JSON answers. */

/** "just now", "12 s ago", "4 min ago", "3 h ago", "2 d ago"; "never" for null. */
export function timeAgo(atMs: number | null, nowMs: number): string {
  if (atMs === null) return "never";
  const seconds = Math.max(0, Math.round((nowMs - atMs) / 1000));
  if (seconds < 1) return "just now";
  if (seconds < 120) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** An epoch-ms time as `YYYY-MM-DD HH:MM:SS UTC`. */
export function utc(atMs: number): string {
  return `${new Date(atMs).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Bytes in GiB with one decimal. */
export function gib(bytes: number): string {
  return (bytes / 1024 ** 3).toFixed(1);
}

/** A list for a table cell; "—" when empty. */
export function listText(items: readonly string[], max = 8): string {
  if (items.length === 0) return "—";
  const shown = items.slice(0, max).join(", ");
  return items.length > max ? `${shown} … (+${items.length - max})` : shown;
}

/** Flat JSON facts as `key=value` pairs. */
export function factsText(facts: Record<string, unknown>): string {
  const pairs = Object.entries(facts).map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  return listText(pairs, 12);
}

/** "a, b ,c" → ["a", "b", "c"] (blank entries dropped). */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}
