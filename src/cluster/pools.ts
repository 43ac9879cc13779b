/**
 * Pools in the catalogue and their pool objects: create and change a pool's settings, issue
 * enrolment and re-key tokens. The catalogue row is written first; the object gets the settings
 * it needs (interval, origin rules) right after.
 */
import { randomToken, sha256Hex } from "../core/crypto.ts";
import { BrokerError } from "../core/errors.ts";
import { findNodeInPool, insertEnrolmentToken, insertPool, type PoolChanges, updatePool as updatePoolRow } from "../db/queries.ts";
import type { PoolRow } from "../db/schema.ts";
import type { Env } from "../env.ts";
import type { PoolSettings } from "../pool/pool-object.ts";
import { poolStub, requirePool } from "../pool/pool-gateway.ts";
import type { OriginRules } from "./origin-policy.ts";

/** What an admin sets on a pool; absent fields keep their value (or take the default on creation). */
export interface PoolSettingsInput {
  intervalMs?: number | undefined;
  originPatterns?: string[] | undefined;
  allowPrivateOrigins?: boolean | undefined;
  requireApproval?: boolean | undefined;
  maxStartingPerNode?: number | null | undefined;
}

/** A pool as the API shows it. */
export interface PoolView {
  name: string;
  intervalMs: number;
  createdAt: number;
  policy: string | null;
  originPatterns: string[];
  allowPrivateOrigins: boolean;
  requireApproval: boolean;
  maxStartingPerNode: number | null;
}

export function originRulesOf(row: PoolRow): OriginRules {
  return { patterns: JSON.parse(row.originPatterns) as string[], allowPrivate: row.allowPrivateOrigins };
}

export function poolView(row: PoolRow): PoolView {
  return { ...row, originPatterns: [...originRulesOf(row).patterns] };
}

export function poolSettingsOf(row: PoolRow): PoolSettings {
  return { pool: row.name, intervalMs: row.intervalMs, originRules: originRulesOf(row), maxStartingPerNode: row.maxStartingPerNode };
}

/**
 * Creates a pool. New pools are strict: no origin is allowed until the admin lists patterns,
 * private origins are refused, and new nodes wait for approval (docs/security.md says why).
 */
export async function createPool(env: Env, name: string, settings: PoolSettingsInput & { intervalMs: number }, nowMs: number): Promise<PoolView> {
  const row: PoolRow = {
    name,
    intervalMs: settings.intervalMs,
    createdAt: nowMs,
    policy: null,
    originPatterns: JSON.stringify(settings.originPatterns ?? []),
    allowPrivateOrigins: settings.allowPrivateOrigins ?? false,
    requireApproval: settings.requireApproval ?? true,
    maxStartingPerNode: settings.maxStartingPerNode ?? null,
  };
  if (!(await insertPool(env.DB, row))) throw new BrokerError("CONFLICT", `pool ${name} exists already`);
  await poolStub(env, name).configure(poolSettingsOf(row));
  return poolView(row);
}

/** Changes a pool's settings; nodes whose origins no longer pass are refused by the relay at once. */
export async function updatePool(env: Env, name: string, settings: PoolSettingsInput): Promise<PoolView> {
  const current = await requirePool(env, name);
  const changes: PoolChanges = {};
  if (settings.intervalMs !== undefined) changes.intervalMs = settings.intervalMs;
  if (settings.originPatterns !== undefined) changes.originPatterns = JSON.stringify(settings.originPatterns);
  if (settings.allowPrivateOrigins !== undefined) changes.allowPrivateOrigins = settings.allowPrivateOrigins;
  if (settings.requireApproval !== undefined) changes.requireApproval = settings.requireApproval;
  if (settings.maxStartingPerNode !== undefined) changes.maxStartingPerNode = settings.maxStartingPerNode;
  if (Object.keys(changes).length > 0) await updatePoolRow(env.DB, name, changes);
  const row = { ...current, ...changes };
  await poolStub(env, name).configure(poolSettingsOf(row));
  return poolView(row);
}

export interface IssuedEnrolmentToken {
  token: string;
  pool: string;
  expiresAt: number;
  /** Set on a re-key token: the one node it re-keys. */
  serverId?: string;
  preApproved: boolean;
}

/**
 * A one-time enrolment token for `pool` (a node enrolled with it is new, and approved at once
 * when `preApproved`), or, with `serverId`, a re-key token for that one node of the pool. Only
 * its hash is stored, so it is shown once.
 */
export async function issueEnrolmentToken(
  env: Env,
  pool: string,
  options: { ttlSeconds: number; preApproved?: boolean; serverId?: string },
  nowMs: number,
): Promise<IssuedEnrolmentToken> {
  await requirePool(env, pool);
  if (options.serverId !== undefined && !(await findNodeInPool(env.DB, pool, options.serverId))) {
    throw new BrokerError("NOT_FOUND", `no server ${options.serverId} in pool ${pool}`);
  }
  const token = `${options.serverId === undefined ? "enr" : "rek"}_${randomToken(32)}`;
  const expiresAt = nowMs + options.ttlSeconds * 1000;
  const preApproved = options.preApproved ?? false;
  await insertEnrolmentToken(env.DB, { tokenHash: await sha256Hex(token), pool, createdAt: nowMs, expiresAt, serverId: options.serverId ?? null, preApproved });
  return { token, pool, expiresAt, preApproved, ...(options.serverId === undefined ? {} : { serverId: options.serverId }) };
}
