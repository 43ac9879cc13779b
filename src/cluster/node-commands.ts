/**
 * The broker's side of the control channel (decision 8) as the Worker uses it: opening a node's
 * channel (the upgrade goes to its pool object, which verifies and accepts it; a node the object
 * lost is recovered from the catalogue once, as for heartbeats), and the commands admins and user
 * removal send: ping one node, disconnect on one node, disconnect one user on every node.
 */
import type { DisconnectTarget } from "../channel-protocol.ts";
import { BrokerError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { listPools } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { POOL_FAILURE_HEADER } from "../pool/channel-admission.ts";
import { isPoolFailure, poolFailureError, unwrapCommand } from "../pool/pool-failure.ts";
import { existingPool, poolStub } from "../pool/pool-gateway.ts";
import { recoverNode } from "./nodes.ts";

/** What the client of a disconnected connection reads as the close reason when an admin gives none. */
export const DEFAULT_DISCONNECT_REASON = "disconnected by an administrator";

/** Forwards a node's channel upgrade (routing claims peeked, not verified) to its pool object: 101, or the refusal as an error. */
export async function openChannel(env: Env, routing: { pool: string; serverId: string }, upgrade: Request): Promise<Response> {
  const stub = poolStub(env, routing.pool);
  let response = await stub.fetch(upgrade);
  if (response.headers.get(POOL_FAILURE_HEADER) === "unknown-node" && (await recoverNode(env, routing.pool, routing.serverId))) {
    response = await stub.fetch(upgrade);
  }
  if (response.status === 101) return response;
  const failure = response.headers.get(POOL_FAILURE_HEADER);
  if (!isPoolFailure(failure)) throw new BrokerError("INTERNAL", `the pool object answered the channel upgrade with ${response.status}`);
  log.warn(`channel refused for ${routing.serverId} in pool ${routing.pool}: ${failure}`);
  throw poolFailureError(failure, routing.serverId);
}

export async function pingServer(env: Env, pool: string, serverId: string): Promise<{ rttMs: number }> {
  return unwrapCommand(await (await existingPool(env, pool)).pingServer(serverId), serverId);
}

export async function disconnectOnServer(env: Env, pool: string, serverId: string, target: DisconnectTarget, reason: string): Promise<{ closed: number }> {
  return unwrapCommand(await (await existingPool(env, pool)).disconnectOn(serverId, target, reason), serverId);
}

/** What disconnecting one user everywhere did. */
export interface UserDisconnectReport {
  /** Nodes asked: every node with a live channel, in every pool. */
  nodes: number;
  /** Live connections the nodes closed. */
  closed: number;
  /** Nodes that did not confirm (channel gone meanwhile, timeout, failure): their connections may live on. */
  failed: Array<{ pool: string; serverId: string; code: string; message: string }>;
}

/**
 * Ends every live relayed connection of `login` on every connected node of every pool, in
 * parallel; bounded by the channel's request timeout. Every connected node is asked, not only
 * those reporting a session of the user: a connection can be live before the node's next
 * heartbeat reports its session, and nodes report OS logins, while the gateway matches the
 * broker login the relay's assertion named.
 */
export async function disconnectUser(env: Env, login: string, reason: string): Promise<UserDisconnectReport> {
  const pools = await listPools(env.DB);
  const reports = await Promise.all(pools.map((pool) => poolStub(env, pool.name).disconnectEverywhere({ user: login }, reason)));
  const total: UserDisconnectReport = { nodes: 0, closed: 0, failed: [] };
  reports.forEach((report, index) => {
    const pool = pools[index]?.name ?? "";
    total.nodes += report.nodes;
    total.closed += report.closed;
    for (const { serverId, error } of report.failed) total.failed.push({ pool, serverId, code: error.code, message: error.message });
  });
  if (total.failed.length > 0) log.warn(`disconnect of ${login}: ${total.failed.length} node(s) did not confirm: ${total.failed.map((f) => `${f.serverId} ${f.code}`).join(", ")}`);
  return total;
}
