/** Named D1 queries for broker-managed users (the sign-in guard's are in login-guard-queries.ts). */
import { asc, eq } from "drizzle-orm";
import { database } from "./queries.ts";
import { type UserRow, users } from "./schema.ts";

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
