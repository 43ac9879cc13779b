/**
 * The one way the Worker reaches a pool's Durable Object. `existingPool` checks the pool is in the
 * catalogue and returns its stub (the usual path for anything a client or admin names);
 * `poolStub` skips the check, for callers whose pool name comes from something the broker signed
 * or stored (a verified ticket, a profile row, the pool list).
 */
import { BrokerError } from "../core/errors.ts";
import { findPool } from "../db/queries.ts";
import type { PoolRow } from "../db/schema.ts";
import type { Env } from "../env.ts";

export function poolStub(env: Env, pool: string) {
  return env.POOL.getByName(pool);
}

export type PoolStub = ReturnType<typeof poolStub>;

/** The pool's catalogue row; 404 when there is no such pool. */
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

/** The stub of a pool that exists; 404 otherwise. */
export async function existingPool(env: Env, name: string): Promise<PoolStub> {
  if (!existingPools.has(name)) {
    await requirePool(env, name);
    existingPools.add(name);
  }
  return poolStub(env, name);
}
