/**
 * Named D1 queries of the sign-in guard (src/auth/login-guard.ts): failure counters per key and
 * the addresses each login signed in from. One round trip to read an attempt's state, and at
 * most one (a batch, which D1 runs as one transaction) to record its outcome.
 */
import { and, eq, inArray, lte, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { database } from "./queries.ts";
import { knownSignInAddresses, loginFailures } from "./schema.ts";

export type LoginFailureRow = typeof loginFailures.$inferSelect;

/** A login and the counter key of an address (`ip:…` or `no-address`). */
export interface LoginAddress {
  login: string;
  address: string;
}

export interface LoginGuardRows {
  failures: LoginFailureRow[];
  /** When `login` last signed in from `address` (epoch ms), or null if never or forgotten. */
  lastSuccessAt: number | null;
}

/** The counters of `keys` and, if asked, when `known` last succeeded: one round trip. */
export async function readLoginGuardRows(db: D1Database, keys: string[], known?: LoginAddress): Promise<LoginGuardRows> {
  const orm = database(db);
  const failures = orm.select().from(loginFailures).where(inArray(loginFailures.key, keys));
  if (!known) return { failures: keys.length > 0 ? await failures : [], lastSuccessAt: null };
  const success = orm
    .select({ lastSuccessAt: knownSignInAddresses.lastSuccessAt })
    .from(knownSignInAddresses)
    .where(and(eq(knownSignInAddresses.login, known.login), eq(knownSignInAddresses.address, known.address)))
    .limit(1);
  const [rows, successes] = await orm.batch([failures, success]);
  return { failures: rows, lastSuccessAt: successes[0]?.lastSuccessAt ?? null };
}

/**
 * Counts one failure against every key in one statement, after purging every counter whose
 * window has passed (one batch). A key whose window started at or before `nowMs - windowMs`
 * starts a new window at `nowMs` with a count of 1.
 */
export async function recordLoginFailures(db: D1Database, keys: string[], nowMs: number, windowMs: number): Promise<void> {
  if (keys.length === 0) return;
  const orm = database(db);
  const expired = sql`${loginFailures.windowStart} <= ${nowMs - windowMs}`;
  const count = orm
    .insert(loginFailures)
    .values(keys.map((key) => ({ key, windowStart: nowMs, failures: 1 })))
    .onConflictDoUpdate({
      target: loginFailures.key,
      // SQLite evaluates every SET expression against the row as it was, so the order is irrelevant.
      set: {
        failures: sql`CASE WHEN ${expired} THEN 1 ELSE ${loginFailures.failures} + 1 END`,
        windowStart: sql`CASE WHEN ${expired} THEN ${nowMs} ELSE ${loginFailures.windowStart} END`,
      },
    });
  await orm.batch([orm.delete(loginFailures).where(lte(loginFailures.windowStart, nowMs - windowMs)), count]);
}

export interface SignInSuccess {
  /** A counter to delete (the failures of this login from this address). */
  clearKey?: string;
  /** An address to remember as the login's, purging every address last used at or before `forgetBeforeMs`. */
  remember?: LoginAddress & { nowMs: number; forgetBeforeMs: number };
}

/** Records a successful sign-in in one batch; writes nothing when there is nothing to change. */
export async function recordSignInSuccess(db: D1Database, success: SignInSuccess): Promise<void> {
  const orm = database(db);
  const statements: Array<BatchItem<"sqlite">> = [];
  if (success.clearKey !== undefined) statements.push(orm.delete(loginFailures).where(eq(loginFailures.key, success.clearKey)));
  const remember = success.remember;
  if (remember) {
    statements.push(
      orm
        .insert(knownSignInAddresses)
        .values({ login: remember.login, address: remember.address, lastSuccessAt: remember.nowMs })
        .onConflictDoUpdate({ target: [knownSignInAddresses.login, knownSignInAddresses.address], set: { lastSuccessAt: remember.nowMs } }),
      orm.delete(knownSignInAddresses).where(lte(knownSignInAddresses.lastSuccessAt, remember.forgetBeforeMs)),
    );
  }
  const [first, ...rest] = statements;
  if (first) await orm.batch([first, ...rest]);
}
