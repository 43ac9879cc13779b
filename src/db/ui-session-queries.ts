/**
 * Signed-out dashboard sessions. A session cookie is a self-contained signed token, so signing
 * out records its id here and `readUiSession` refuses any copy of it until it would have
 * expired; expired rows are purged on the next sign-out.
 */
import { eq, lte } from "drizzle-orm";
import { database } from "./queries.ts";
import { revokedUiSessions } from "./schema.ts";

/** Records `sessionId` as signed out until `expiresAtMs`, and purges rows already past expiry. */
export async function revokeUiSession(db: D1Database, sessionId: string, expiresAtMs: number, nowMs: number): Promise<void> {
  const orm = database(db);
  await orm.batch([
    orm.insert(revokedUiSessions).values({ sessionId, expiresAt: expiresAtMs }).onConflictDoNothing(),
    orm.delete(revokedUiSessions).where(lte(revokedUiSessions.expiresAt, nowMs)),
  ]);
}

export async function isUiSessionRevoked(db: D1Database, sessionId: string): Promise<boolean> {
  const row = await database(db).select({ sessionId: revokedUiSessions.sessionId }).from(revokedUiSessions).where(eq(revokedUiSessions.sessionId, sessionId)).get();
  return row !== undefined;
}
