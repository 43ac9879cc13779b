/**
 * Operations on one enrolled node that touch both the D1 catalogue and its pool object: heartbeats
 * (with recovery of a node the object lost), approval, drain, static-data overrides, removal.
 */
import { BrokerError } from "../core/errors.ts";
import { deleteNode, findNode, findNodeInPool, findPool, setNodeApproved, setNodeDraining, setNodeStaticOverrides } from "../db/queries.ts";
import type { NodeRow } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { nodeRecordFromRow } from "../pool/node-record.ts";
import type { HeartbeatInput } from "../pool/pool-object.ts";
import { type PoolStub, poolStub, requirePool } from "../pool/pool-gateway.ts";
import { unwrapPool } from "../pool/pool-failure.ts";
import type { HeartbeatReply, StaticData } from "../protocol.ts";
import { poolSettingsOf } from "./pools.ts";
import { log } from "../core/log.ts";

/**
 * Records a heartbeat in the node's pool object. A node the object does not hold (an enrolment
 * whose object call failed, or reset storage) is reloaded from the catalogue once, here and not
 * in the object, so the object's heartbeat path never reads D1; then the beat is retried.
 */
export async function acceptHeartbeat(env: Env, input: HeartbeatInput): Promise<HeartbeatReply> {
  const stub = poolStub(env, input.pool);
  let reply = await stub.recordHeartbeat(input);
  if (!reply.ok && reply.error === "unknown-node" && (await recoverNode(env, input.pool, input.serverId))) {
    reply = await stub.recordHeartbeat(input);
  }
  if (!reply.ok) log.warn(`heartbeat refused for ${input.serverId} in pool ${input.pool}: ${reply.error}`);
  return unwrapPool(reply, input.serverId);
}

/** Registers a catalogue node with its pool object again; false when the catalogue has no such node there. */
export async function recoverNode(env: Env, pool: string, serverId: string): Promise<boolean> {
  const [row, poolRow] = await Promise.all([findNodeInPool(env.DB, pool, serverId), findPool(env.DB, pool)]);
  if (!row || !poolRow) return false;
  await poolStub(env, pool).registerNode(poolSettingsOf(poolRow), nodeRecordFromRow(row));
  return true;
}

/** A pool object's answer about one server, as it arrives over RPC. */
type ServerAnswer = Awaited<ReturnType<PoolStub["getServer"]>>;

async function requireNode(env: Env, pool: string, serverId: string): Promise<NodeRow> {
  const node = await findNode(env.DB, serverId);
  if (!node || node.pool !== pool) throw new BrokerError("NOT_FOUND", `no server ${serverId} in pool ${pool}`);
  return node;
}

/** Applies a change to the catalogue row and the object; an object that lost the node gets it back. */
async function changeNode(
  env: Env,
  pool: string,
  serverId: string,
  change: { catalogue: () => Promise<void>; object: () => Promise<ServerAnswer>; row: (node: NodeRow) => NodeRow },
) {
  const node = await requireNode(env, pool, serverId);
  await change.catalogue();
  const changed = await change.object();
  if (changed.ok) return changed.value;
  const stub = poolStub(env, pool);
  await stub.registerNode(poolSettingsOf(await requirePool(env, pool)), nodeRecordFromRow(change.row(node)));
  return unwrapPool(await stub.getServer(serverId), serverId);
}

export async function setDraining(env: Env, pool: string, serverId: string, draining: boolean) {
  return changeNode(env, pool, serverId, {
    catalogue: () => setNodeDraining(env.DB, serverId, draining),
    object: () => poolStub(env, pool).setDraining(serverId, draining),
    row: (node) => ({ ...node, draining }),
  });
}

/** Approves a pending node (pools with `requireApproval`): it takes placements from now on. Idempotent. */
export async function approveNode(env: Env, pool: string, serverId: string) {
  return changeNode(env, pool, serverId, {
    catalogue: () => setNodeApproved(env.DB, serverId),
    object: () => poolStub(env, pool).approveNode(serverId),
    row: (node) => ({ ...node, approved: true }),
  });
}

export async function setStaticOverrides(env: Env, pool: string, serverId: string, overrides: StaticData) {
  return changeNode(env, pool, serverId, {
    catalogue: () => setNodeStaticOverrides(env.DB, serverId, overrides),
    object: () => poolStub(env, pool).setStaticOverrides(serverId, overrides),
    row: (node) => ({ ...node, staticOverrides: JSON.stringify(overrides) }),
  });
}

/** Removes a node: the object first, so its key stops working before the catalogue forgets it. */
export async function removeNode(env: Env, pool: string, serverId: string): Promise<void> {
  await requireNode(env, pool, serverId);
  await poolStub(env, pool).removeNode(serverId);
  await deleteNode(env.DB, serverId);
}
