/** Pools in the catalogue and their pool objects: create, change the interval, issue enrolment tokens. */
import { randomToken, sha256Hex } from "../core/crypto.ts";
import { BrokerError } from "../core/errors.ts";
import { insertEnrolmentToken, insertPool, updatePoolInterval } from "../db/queries.ts";
import type { PoolRow } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { poolStub, requirePool } from "../pool/pool-gateway.ts";

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
