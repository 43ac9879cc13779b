/** Named D1 queries for the catalogue. Each takes the D1 binding; none runs per heartbeat. */
import { and, asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Ed25519PublicJwk, StaticData } from "../protocol.ts";
import { type EnrolmentTokenRow, enrolmentTokens, type NodeRow, nodes, type PoolRow, pools } from "./schema.ts";

export function database(db: D1Database) {
  return drizzle(db);
}

export async function listPools(db: D1Database): Promise<PoolRow[]> {
  return database(db).select().from(pools).orderBy(asc(pools.name));
}

export async function findPool(db: D1Database, name: string): Promise<PoolRow | null> {
  const rows = await database(db).select().from(pools).where(eq(pools.name, name)).limit(1);
  return rows[0] ?? null;
}

/** Inserts a pool; false when one with that name exists already. */
export async function insertPool(db: D1Database, pool: PoolRow): Promise<boolean> {
  const result = await database(db).insert(pools).values(pool).onConflictDoNothing().run();
  return result.meta.changes === 1;
}

export type PoolChanges = Partial<Pick<PoolRow, "intervalMs" | "originPatterns" | "allowPrivateOrigins" | "requireApproval" | "maxStartingPerNode">>;

export async function updatePool(db: D1Database, name: string, changes: PoolChanges): Promise<void> {
  await database(db).update(pools).set(changes).where(eq(pools.name, name)).run();
}

export async function updatePoolPolicy(db: D1Database, name: string, policyJson: string | null): Promise<void> {
  await database(db).update(pools).set({ policy: policyJson }).where(eq(pools.name, name)).run();
}

export async function insertEnrolmentToken(
  db: D1Database,
  token: { tokenHash: string; pool: string; createdAt: number; expiresAt: number; serverId: string | null; preApproved: boolean },
): Promise<void> {
  await database(db).insert(enrolmentTokens).values(token).run();
}

/** A token that is unused and unexpired at `nowMs`, or null. */
export async function findSpendableToken(db: D1Database, tokenHash: string, nowMs: number): Promise<EnrolmentTokenRow | null> {
  const row = await database(db).select().from(enrolmentTokens).where(eq(enrolmentTokens.tokenHash, tokenHash)).get();
  return row && row.usedAt === null && row.expiresAt > nowMs ? row : null;
}

export async function findNode(db: D1Database, serverId: string): Promise<NodeRow | null> {
  const rows = await database(db).select().from(nodes).where(eq(nodes.serverId, serverId)).limit(1);
  return rows[0] ?? null;
}

export async function findNodeInPool(db: D1Database, pool: string, serverId: string): Promise<NodeRow | null> {
  const rows = await database(db)
    .select()
    .from(nodes)
    .where(and(eq(nodes.serverId, serverId), eq(nodes.pool, pool)))
    .limit(1);
  return rows[0] ?? null;
}

export async function findNodeByHostname(db: D1Database, hostname: string): Promise<NodeRow | null> {
  const rows = await database(db).select().from(nodes).where(eq(nodes.hostname, hostname)).limit(1);
  return rows[0] ?? null;
}

export async function findNodeByOrigin(db: D1Database, originUrl: string): Promise<NodeRow | null> {
  return (await database(db).select().from(nodes).where(eq(nodes.originUrl, originUrl)).get()) ?? null;
}

/** What an enrolment or re-key stores about a node's identity. */
export interface NodeIdentityInput {
  serverId: string;
  hostname: string;
  publicKey: Ed25519PublicJwk;
  originUrl: string;
  clientAddress: string | null;
  assertionSalt: string;
  nowMs: number;
}

function claimStatement(db: D1Database, tokenHash: string, serverId: string, nowMs: number): D1PreparedStatement {
  return db
    .prepare("UPDATE enrolment_tokens SET used_at = ?1, used_by = ?2 WHERE token_hash = ?3 AND used_at IS NULL AND expires_at > ?1")
    .bind(nowMs, serverId, tokenHash);
}

/**
 * Spends an enrolment token and inserts a new node in its pool in one D1 batch (a transaction):
 * the row is written only if this call spent the token, and a hostname or origin another node
 * holds fails the whole batch (the token stays unspent). Null when the token was not spendable.
 * @throws D1's constraint error for a taken hostname or origin.
 */
export async function enrolNewNode(db: D1Database, tokenHash: string, node: NodeIdentityInput & { approved: boolean }): Promise<NodeRow | null> {
  const insert = db
    .prepare(
      `INSERT INTO nodes (server_id, pool, hostname, public_key_jwk, origin_url, client_address, enrolled_at, approved, assertion_salt)
       SELECT ?1, pool, ?2, ?3, ?4, ?5, ?6, ?7, ?8 FROM enrolment_tokens WHERE token_hash = ?9 AND used_by = ?1 AND used_at = ?6`,
    )
    .bind(node.serverId, node.hostname, JSON.stringify(node.publicKey), node.originUrl, node.clientAddress, node.nowMs, node.approved ? 1 : 0, node.assertionSalt, tokenHash);
  const [claimed] = await db.batch([claimStatement(db, tokenHash, node.serverId, node.nowMs), insert]);
  if (!claimed || claimed.meta.changes !== 1) return null;
  return findNode(db, node.serverId);
}

/**
 * Replaces a node's key, origin, client address and assertion salt. With `tokenHash`, only as
 * part of spending that re-key token (one batch); null when the token was not spendable.
 * @throws D1's constraint error for an origin another node holds.
 */
export async function rekeyNode(db: D1Database, node: NodeIdentityInput, tokenHash?: string): Promise<NodeRow | null> {
  const update = db
    .prepare(
      `UPDATE nodes SET public_key_jwk = ?2, origin_url = ?3, client_address = ?4, assertion_salt = ?5, enrolled_at = ?6
       WHERE server_id = ?1 AND (?7 IS NULL OR EXISTS (SELECT 1 FROM enrolment_tokens WHERE token_hash = ?7 AND used_by = ?1 AND used_at = ?6))`,
    )
    .bind(node.serverId, JSON.stringify(node.publicKey), node.originUrl, node.clientAddress, node.assertionSalt, node.nowMs, tokenHash ?? null);
  if (tokenHash === undefined) {
    await update.run();
    return findNode(db, node.serverId);
  }
  const [claimed] = await db.batch([claimStatement(db, tokenHash, node.serverId, node.nowMs), update]);
  if (!claimed || claimed.meta.changes !== 1) return null;
  return findNode(db, node.serverId);
}

export async function setNodeApproved(db: D1Database, serverId: string): Promise<void> {
  await database(db).update(nodes).set({ approved: true }).where(eq(nodes.serverId, serverId)).run();
}

export async function setNodeDraining(db: D1Database, serverId: string, draining: boolean): Promise<void> {
  await database(db).update(nodes).set({ draining }).where(eq(nodes.serverId, serverId)).run();
}

export async function setNodeStaticOverrides(db: D1Database, serverId: string, overrides: StaticData): Promise<void> {
  await database(db).update(nodes).set({ staticOverrides: JSON.stringify(overrides) }).where(eq(nodes.serverId, serverId)).run();
}

export async function deleteNode(db: D1Database, serverId: string): Promise<void> {
  await database(db).delete(nodes).where(eq(nodes.serverId, serverId)).run();
}

/** The admin's settings of a pool's nodes (never their keys or origins), by hostname. */
export async function listNodeSettings(db: D1Database, pool: string) {
  return database(db)
    .select({ serverId: nodes.serverId, hostname: nodes.hostname, staticOverrides: nodes.staticOverrides, draining: nodes.draining })
    .from(nodes)
    .where(eq(nodes.pool, pool))
    .orderBy(asc(nodes.hostname));
}
