/**
 * The pool object's settings and counters (the `meta` table), with a typed accessor for each key.
 * Values are cached in memory and written through, so reads on the select path cost nothing.
 */
import type { OriginRules } from "../cluster/origin-policy.ts";
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from "../protocol.ts";

type MetaKey = "pool" | "interval_ms" | "policy" | "round_robin_counter" | "origin_rules" | "max_starting_per_node" | "line_placed_at";

export class PoolMeta {
  private readonly sql: SqlStorage;
  private readonly cache = new Map<MetaKey, string | null>();

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  /** The pool's name ("" until the object is configured). */
  get pool(): string {
    return this.read("pool") ?? "";
  }

  set pool(name: string) {
    this.write("pool", name);
  }

  /** Whether the object was ever configured for a pool. */
  get configured(): boolean {
    return this.read("pool") !== null;
  }

  get intervalMs(): number {
    const stored = Number(this.read("interval_ms"));
    return Number.isInteger(stored) && stored > 0 ? stored : DEFAULT_HEARTBEAT_INTERVAL_MS;
  }

  set intervalMs(intervalMs: number) {
    this.write("interval_ms", String(intervalMs));
  }

  /** The admin's policy as JSON text ("null" for the default chain), or null when never stored here. */
  get policyJson(): string | null {
    return this.read("policy");
  }

  set policyJson(json: string) {
    this.write("policy", json);
  }

  /** The pool's origin allow-list as the catalogue has it; none allowed until configured. */
  get originRules(): OriginRules {
    const json = this.read("origin_rules");
    return json === null ? { patterns: [], allowPrivate: false } : (JSON.parse(json) as OriginRules);
  }

  set originRules(rules: OriginRules) {
    this.write("origin_rules", JSON.stringify(rules));
  }

  /** Logon-storm admission: new sessions one node may have starting at once; null: no cap. */
  get maxStartingPerNode(): number | null {
    const stored = Number(this.read("max_starting_per_node"));
    return Number.isInteger(stored) && stored > 0 ? stored : null;
  }

  set maxStartingPerNode(cap: number | null) {
    this.write("max_starting_per_node", cap === null ? "" : String(cap));
  }

  /** When the wait line last placed entries (ms, oldest first): its wait estimates, kept across eviction. */
  get linePlacedAt(): readonly number[] {
    const json = this.read("line_placed_at");
    const times: unknown = json === null ? [] : JSON.parse(json);
    return Array.isArray(times) ? times.filter((at): at is number => Number.isFinite(at)) : [];
  }

  set linePlacedAt(times: readonly number[]) {
    this.write("line_placed_at", JSON.stringify(times));
  }

  get roundRobinCounter(): number {
    return Number(this.read("round_robin_counter") ?? "0");
  }

  set roundRobinCounter(value: number) {
    this.write("round_robin_counter", String(value));
  }

  private read(key: MetaKey): string | null {
    if (!this.cache.has(key)) {
      const [row] = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray();
      this.cache.set(key, row?.value ?? null);
    }
    return this.cache.get(key) ?? null;
  }

  private write(key: MetaKey, value: string): void {
    this.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
    this.cache.set(key, value);
  }
}
