/** D1 queries of the X2Go AUTHID cookies (src/x2go/cookies.ts): only a SHA-256 of each cookie is stored. */
import { and, eq, gt, lte } from "drizzle-orm";
import { database } from "./queries.ts";
import { type X2goCookieRow, x2goCookies } from "./schema.ts";

export async function insertX2goCookie(db: D1Database, row: X2goCookieRow): Promise<void> {
  await database(db).insert(x2goCookies).values(row);
}

/**
 * Deletes and returns the cookie with this hash if it belongs to `login` at `clientIp` and is not
 * expired at `nowMs`: one atomic statement, so of two concurrent presentations only one gets it.
 */
export async function spendX2goCookie(db: D1Database, cookieHash: string, login: string, clientIp: string, nowMs: number): Promise<X2goCookieRow | null> {
  const rows = await database(db)
    .delete(x2goCookies)
    .where(and(eq(x2goCookies.cookieHash, cookieHash), eq(x2goCookies.login, login), eq(x2goCookies.clientIp, clientIp), gt(x2goCookies.expiresAt, nowMs)))
    .returning();
  return rows[0] ?? null;
}

export async function deleteExpiredX2goCookies(db: D1Database, nowMs: number): Promise<void> {
  await database(db).delete(x2goCookies).where(lte(x2goCookies.expiresAt, nowMs)).run();
}
