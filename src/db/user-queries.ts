/**
 * Named D1 queries for broker-managed users and the sign-in failure counters. Counters are
 * written only when a sign-in fails (increment) or succeeds (clear the user's counter).
 */
import { asc, eq, inArray, sql } from "drizzle-orm";
import { database } from "./queries.ts";
import { loginFailures, type UserRow, users } from "./schema.ts";

export type LoginFailureRow = typeof loginFailures.$inferSelect;

export async function findUser(db: D1Database, login: string): Promise<UserRow | null> {
  const rows = await database(db).select().from(users).where(eq(users.login, login)).limit(1);
  return rows[0] ?? null;
}

export async function listUserRows(db: D1Database): Promise<UserRow[]> {
  return database(db).select().from(users).orderBy(asc(users.login));
}

/** Inserts a user; false when one with that login exists already. */
export async function insertUser(db: D1Database, user: UserRow): Promise<boolean> {
  const result = await database(db).insert(users).values(user).onConflictDoNothing().run();
  return result.meta.changes === 1;
}

export type UserChanges = Partial<Pick<UserRow, "passwordHash" | "groups" | "isAdmin" | "disabled">> & { updatedAt: number };

/** Applies `changes` to one user; false when no such user exists. */
export async function updateUserRow(db: D1Database, login: string, changes: UserChanges): Promise<boolean> {
  const result = await database(db).update(users).set(changes).where(eq(users.login, login)).run();
  return result.meta.changes === 1;
}

/** Deletes one user; false when no such user exists. */
export async function deleteUserRow(db: D1Database, login: string): Promise<boolean> {
  const result = await database(db).delete(users).where(eq(users.login, login)).run();
  return result.meta.changes === 1;
}

export async function readLoginFailures(db: D1Database, keys: string[]): Promise<LoginFailureRow[]> {
  if (keys.length === 0) return [];
  return database(db).select().from(loginFailures).where(inArray(loginFailures.key, keys));
}

/**
 * Counts one failure against every key, in one statement. A key whose window started at or
 * before `nowMs - windowMs` starts a new window at `nowMs` with a count of 1.
 */
export async function recordLoginFailures(db: D1Database, keys: string[], nowMs: number, windowMs: number): Promise<void> {
  if (keys.length === 0) return;
  const expired = sql`${loginFailures.windowStart} <= ${nowMs - windowMs}`;
  await database(db)
    .insert(loginFailures)
    .values(keys.map((key) => ({ key, windowStart: nowMs, failures: 1 })))
    .onConflictDoUpdate({
      target: loginFailures.key,
      // SQLite evaluates every SET expression against the row as it was, so the order is irrelevant.
      set: {
        failures: sql`CASE WHEN ${expired} THEN 1 ELSE ${loginFailures.failures} + 1 END`,
        windowStart: sql`CASE WHEN ${expired} THEN ${nowMs} ELSE ${loginFailures.windowStart} END`,
      },
    })
    .run();
}

export async function clearLoginFailures(db: D1Database, key: string): Promise<void> {
  await database(db).delete(loginFailures).where(eq(loginFailures.key, key)).run();
}
