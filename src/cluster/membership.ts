/**
 * Cluster membership: the operations that touch both the D1 catalogue and a pool's Durable
 * Object. D1 is written first (it is the durable truth); the object is then brought in line.
 * If the object call fails, the object recovers the node from D1 on its next heartbeat.
 */
import { assertionKeyForEnrolment } from "../tokens/node-assertion.ts";
import { signingKey } from "../tokens/broker-token.ts";
import { randomId, randomToken, sha256Hex } from "../core/crypto.ts";
import {
  claimTokenAndUpsertNode,
  deleteNode,
  findNode,
  findNodeByHostname,
  findPool,
  insertEnrolmentToken,
  insertPool,
  setNodeDraining,
  setNodeStaticOverrides,
  updatePoolInterval,
} from "../db/queries.ts";
import type { NodeRow, PoolRow } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { BrokerError, unauthorized } from "../core/errors.ts";
import { unwrap } from "../pool/rpc-result.ts";
import { nodeRecordFromRow } from "../pool/node-record.ts";
import type { EnrolRequest, EnrolResponse, StaticData } from "../protocol.ts";

export function poolStub(env: Env, pool: string) {
  return env.POOL.getByName(pool);
}

export async function requirePool(env: Env, name: string): Promise<PoolRow> {
  const pool = await findPool(env.DB, name);
  if (!pool) throw new BrokerError("NOT_FOUND", `no pool named ${name}`);
  return pool;
}

/**
 * Pools known to exist, per isolate. Pools are never deleted, so a positive answer cannot go
 * stale; it keeps a D1 read off the select path.
 */
const existingPools = new Set<string>();

export async function ensurePoolExists(env: Env, name: string): Promise<void> {
  if (existingPools.has(name)) return;
  await requirePool(env, name);
  existingPools.add(name);
}

export async function createPool(env: Env, name: string, intervalMs: number, nowMs: number): Promise<PoolRow> {
  const pool = { name, intervalMs, createdAt: nowMs, policy: null };
  if (!(await insertPool(env.DB, pool))) throw new BrokerError("CONFLICT", `pool ${name} exists already`);
  await poolStub(env, name).configure(name, intervalMs);
  return pool;
}

export async function setPoolInterval(env: Env, name: string, intervalMs: number): Promise<PoolRow> {
  const pool = await requirePool(env, name);
  await updatePoolInterval(env.DB, name, intervalMs);
  await poolStub(env, name).setIntervalMs(intervalMs);
  return { ...pool, intervalMs };
}

export interface IssuedEnrolmentToken {
  token: string;
  pool: string;
  expiresAt: number;
}

/** A one-time enrolment token; only its hash is stored, so it is shown once. */
export async function issueEnrolmentToken(env: Env, pool: string, ttlSeconds: number, nowMs: number): Promise<IssuedEnrolmentToken> {
  await requirePool(env, pool);
  const token = `enr_${randomToken(32)}`;
  const expiresAt = nowMs + ttlSeconds * 1000;
  await insertEnrolmentToken(env.DB, { tokenHash: await sha256Hex(token), pool, createdAt: nowMs, expiresAt });
  return { token, pool, expiresAt };
}

export async function enrolNode(env: Env, request: EnrolRequest, nowMs: number): Promise<EnrolResponse> {
  const previous = await findNodeByHostname(env.DB, request.hostname);
  const node = await claimTokenAndUpsertNode(env.DB, {
    tokenHash: await sha256Hex(request.token),
    serverId: previous?.serverId ?? randomId("srv"),
    hostname: request.hostname,
    publicKey: request.publicKey,
    originUrl: request.originUrl,
    clientAddress: request.clientAddress ?? null,
    nowMs,
  });
  if (!node) {
    console.warn(`enrolment refused for ${request.hostname}: token unknown, used or expired`);
    throw unauthorized();
  }
  const pool = await requirePool(env, node.pool);
  if (previous && previous.pool !== node.pool) await poolStub(env, previous.pool).removeNode(previous.serverId);
  await poolStub(env, node.pool).registerNode(node.pool, pool.intervalMs, nodeRecordFromRow(node));
  const key = signingKey(env.SIGNING_KEY);
  const assertionKey = key ? await assertionKeyForEnrolment(key, node.serverId) : undefined;
  return { serverId: node.serverId, pool: node.pool, intervalMs: pool.intervalMs, ...(assertionKey ? { assertionKey } : {}) };
}

async function requireNode(env: Env, pool: string, serverId: string): Promise<NodeRow> {
  const node = await findNode(env.DB, serverId);
  if (!node || node.pool !== pool) throw new BrokerError("NOT_FOUND", `no server ${serverId} in pool ${pool}`);
  return node;
}

export async function setDraining(env: Env, pool: string, serverId: string, draining: boolean) {
  const node = await requireNode(env, pool, serverId);
  await setNodeDraining(env.DB, serverId, draining);
  const stub = poolStub(env, pool);
  const result = await stub.setDraining(serverId, draining);
  if (result.ok) return result.value;
  await stub.registerNode(pool, (await requirePool(env, pool)).intervalMs, nodeRecordFromRow({ ...node, draining }));
  return unwrap(await stub.getServer(serverId));
}

export async function setStaticOverrides(env: Env, pool: string, serverId: string, overrides: StaticData) {
  const node = await requireNode(env, pool, serverId);
  await setNodeStaticOverrides(env.DB, serverId, overrides);
  const stub = poolStub(env, pool);
  const result = await stub.setStaticOverrides(serverId, overrides);
  if (result.ok) return result.value;
  const staticOverrides = JSON.stringify(overrides);
  await stub.registerNode(pool, (await requirePool(env, pool)).intervalMs, nodeRecordFromRow({ ...node, staticOverrides }));
  return unwrap(await stub.getServer(serverId));
}

/** Removes a node: the object first, so its key stops working before the catalogue forgets it. */
export async function removeNode(env: Env, pool: string, serverId: string): Promise<void> {
  await requireNode(env, pool, serverId);
  await poolStub(env, pool).removeNode(serverId);
  await deleteNode(env.DB, serverId);
}
