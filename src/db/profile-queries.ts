/**
 * Named D1 queries for session profiles. Rows hold JSON text (`hosts`, `policy`, `acl`,
 * `x2go_options`); encoding and decoding is the domain layer's (src/profiles/profiles.ts).
 */
import { asc, eq, inArray } from "drizzle-orm";
import { database } from "./queries.ts";
import { type ProfileRow, profiles } from "./schema.ts";

/** D1 binds at most 100 parameters per statement. */
const IDS_PER_QUERY = 90;

export async function findProfileRow(db: D1Database, id: string): Promise<ProfileRow | null> {
  const rows = await database(db).select().from(profiles).where(eq(profiles.id, id)).limit(1);
  return rows[0] ?? null;
}

/** Every profile, or those of one pool, ordered by id. */
export async function listProfileRows(db: D1Database, pool?: string): Promise<ProfileRow[]> {
  const query = database(db).select().from(profiles);
  return (pool === undefined ? query : query.where(eq(profiles.pool, pool))).orderBy(asc(profiles.id));
}

/** The id, pool and creation time of each of `ids` that exists. */
export async function findProfileOwners(db: D1Database, ids: readonly string[]): Promise<Array<Pick<ProfileRow, "id" | "pool" | "createdAt">>> {
  const found: Array<Pick<ProfileRow, "id" | "pool" | "createdAt">> = [];
  for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
    const chunk = ids.slice(start, start + IDS_PER_QUERY);
    const rows = await database(db)
      .select({ id: profiles.id, pool: profiles.pool, createdAt: profiles.createdAt })
      .from(profiles)
      .where(inArray(profiles.id, chunk));
    found.push(...rows);
  }
  return found;
}

/** Inserts a profile; false when one with that id exists already. */
export async function insertProfileRow(db: D1Database, row: ProfileRow): Promise<boolean> {
  const result = await database(db).insert(profiles).values(row).onConflictDoNothing().run();
  return result.meta.changes === 1;
}

/** Replaces everything but the id and creation time; false when no such profile exists. */
export async function replaceProfileRow(db: D1Database, id: string, row: Omit<ProfileRow, "id" | "createdAt">): Promise<boolean> {
  const result = await database(db).update(profiles).set(row).where(eq(profiles.id, id)).run();
  return result.meta.changes === 1;
}

/** Deletes one profile; false when no such profile exists. */
export async function deleteProfileRow(db: D1Database, id: string): Promise<boolean> {
  const result = await database(db).delete(profiles).where(eq(profiles.id, id)).run();
  return result.meta.changes === 1;
}

/**
 * Writes imported profiles in one D1 batch (a transaction: all or nothing). With
 * `replacePool`, the pool's other profiles are deleted first, so the pool ends up with exactly
 * `rows`. Plain inserts: an id that appeared since the caller's checks fails the whole batch
 * with SQLite's UNIQUE constraint error.
 */
export async function writeProfileBatch(db: D1Database, pool: string, rows: readonly ProfileRow[], replacePool: boolean): Promise<void> {
  const orm = database(db);
  const inserts = rows.map((row) => orm.insert(profiles).values(row));
  if (replacePool) {
    await orm.batch([orm.delete(profiles).where(eq(profiles.pool, pool)), ...inserts]);
    return;
  }
  const [first, ...rest] = inserts;
  if (first) await orm.batch([first, ...rest]);
}

/** Whether a D1 error is a primary-key or unique violation (a concurrent writer won). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && /UNIQUE constraint failed/i.test(`${error.message} ${String(error.cause ?? "")}`);
}
