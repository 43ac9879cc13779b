/**
 * Whole-state snapshots for the hostile-input and authorisation suites: every D1 table and every
 * pool object's SQLite tables and alarm, so a test can assert that a refused call changed nothing.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";

/**
 * Tables a refused call may legitimately change: the migration log, and the sign-in guard's (the
 * failure counters, and the addresses a signed-in case came from).
 */
export const MUTABLE_D1_TABLES = ["d1_migrations", "login_failures", "known_sign_in_addresses"];

type Rows = Array<Record<string, unknown>>;

export interface StateSnapshot {
  d1: Record<string, Rows>;
  pools: Record<string, { tables: Record<string, Rows>; alarm: number | null }>;
}

let d1TableNames: string[] | null = null;

async function listD1Tables(): Promise<string[]> {
  if (d1TableNames) return d1TableNames;
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
  ).all<{ name: string }>();
  d1TableNames = results.map((row) => row.name).filter((name) => !MUTABLE_D1_TABLES.includes(name));
  return d1TableNames;
}

async function snapshotPool(pool: string): Promise<StateSnapshot["pools"][string]> {
  return runInDurableObject(env.POOL.getByName(pool), async (_instance, state) => {
    const names = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name")
      .toArray()
      .map((row) => row.name);
    const tables: Record<string, Rows> = {};
    for (const name of names) tables[name] = state.storage.sql.exec(`SELECT * FROM "${name}" ORDER BY 1`).toArray();
    return { tables, alarm: await state.storage.getAlarm() };
  });
}

/** Every D1 table but `MUTABLE_D1_TABLES` (and `ignore`), and every pool object named in `pools`. */
export async function snapshotState(options: { ignore?: string[] } = {}): Promise<StateSnapshot> {
  const tables = (await listD1Tables()).filter((name) => !options.ignore?.includes(name));
  const results = await env.DB.batch(tables.map((name) => env.DB.prepare(`SELECT * FROM "${name}" ORDER BY 1`)));
  const d1: Record<string, Rows> = {};
  tables.forEach((name, index) => {
    d1[name] = (results[index]?.results ?? []) as Rows;
  });
  const pools: StateSnapshot["pools"] = {};
  for (const row of d1["pools"] ?? []) {
    const name = String(row["name"]);
    pools[name] = await snapshotPool(name);
  }
  return { d1, pools };
}

/** Fails with the differing tables named when `after` is not `before`. */
export function expectUnchanged(before: StateSnapshot, after: StateSnapshot, what: string): void {
  const changed = [
    ...Object.keys({ ...before.d1, ...after.d1 }).filter((table) => JSON.stringify(before.d1[table]) !== JSON.stringify(after.d1[table])).map((t) => `D1 ${t}`),
    ...Object.keys({ ...before.pools, ...after.pools }).filter(
      (pool) => JSON.stringify(before.pools[pool]) !== JSON.stringify(after.pools[pool]),
    ).map((p) => `pool object ${p}`),
  ];
  expect(changed, `state changed by ${what}`).toEqual([]);
}

/** Clears the failed-sign-in counters, so each case starts unthrottled whatever ran before it. */
export async function resetLoginFailures(): Promise<void> {
  await env.DB.prepare("DELETE FROM login_failures").run();
}

/** Every string stored anywhere (D1 and pool objects), for leak checks: hashes, keys, ids. */
export function storedStrings(snapshot: StateSnapshot, minLength = 8): Set<string> {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === "string") {
      if (value.length >= minLength) found.add(value);
      if (value.startsWith("{") || value.startsWith("[")) {
        try {
          visit(JSON.parse(value));
        } catch {
          // Not JSON: the whole string was added above.
        }
      }
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") Object.values(value).forEach(visit);
  };
  visit(snapshot);
  return found;
}
