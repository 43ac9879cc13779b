/** Named D1 queries for the catalogue. Each takes the D1 binding; none runs per heartbeat. */
import { and, asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Ed25519PublicJwk, StaticData } from "../protocol.ts";
import { enrolmentTokens, type NodeRow, nodes, type PoolRow, pools } from "./schema.ts";

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

export async function updatePoolInterval(db: D1Database, name: string, intervalMs: number): Promise<void> {
  await database(db).update(pools).set({ intervalMs }).where(eq(pools.name, name)).run();
}

export async function updatePoolPolicy(db: D1Database, name: string, policyJson: string | null): Promise<void> {
  await database(db).update(pools).set({ policy: policyJson }).where(eq(pools.name, name)).run();
}

export async function insertEnrolmentToken(
  db: D1Database,
  token: { tokenHash: string; pool: string; createdAt: number; expiresAt: number },
): Promise<void> {
  await database(db).insert(enrolmentTokens).values(token).run();
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

export interface ClaimAndUpsertInput {
  tokenHash: string;
  serverId: string;
  hostname: string;
  publicKey: Ed25519PublicJwk;
  originUrl: string;
  clientAddress: string | null;
  nowMs: number;
}

/**
 * Spends an enrolment token and inserts or re-keys the node in one D1 batch (a transaction):
 * the node row is written only if this call spent the token, so a used, expired or unknown
 * token changes nothing. Returns the stored node, or null if the token was not spendable.
 */
export async function claimTokenAndUpsertNode(db: D1Database, input: ClaimAndUpsertInput): Promise<NodeRow | null> {
  const claim = db
    .prepare("UPDATE enrolment_tokens SET used_at = ?1, used_by = ?2 WHERE token_hash = ?3 AND used_at IS NULL AND expires_at > ?1")
    .bind(input.nowMs, input.serverId, input.tokenHash);
  const upsert = db
    .prepare(
      `INSERT INTO nodes (server_id, pool, hostname, public_key_jwk, origin_url, client_address, enrolled_at)
       SELECT ?1, pool, ?2, ?3, ?4, ?5, ?6 FROM enrolment_tokens WHERE token_hash = ?7 AND used_by = ?1 AND used_at = ?6
       ON CONFLICT(hostname) DO UPDATE SET
         pool = excluded.pool,
         public_key_jwk = excluded.public_key_jwk,
         origin_url = excluded.origin_url,
         client_address = excluded.client_address,
         enrolled_at = excluded.enrolled_at`,
    )
    .bind(input.serverId, input.hostname, JSON.stringify(input.publicKey), input.originUrl, input.clientAddress, input.nowMs, input.tokenHash);
  const [claimed] = await db.batch([claim, upsert]);
  if (!claimed || claimed.meta.changes !== 1) return null;
  return findNodeByHostname(db, input.hostname);
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
