/**
 * Enrolment: a node presents a one-time token, its public key, hostname and origin. D1 is written
 * first (it is the durable truth); the pool object is then told. If that call fails, the node is
 * recovered from D1 on its first heartbeat (`acceptHeartbeat`).
 */
import { randomId, sha256Hex } from "../core/crypto.ts";
import { unauthorized } from "../core/errors.ts";
import { claimTokenAndUpsertNode, findNodeByHostname } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { nodeRecordFromRow } from "../pool/node-record.ts";
import { poolStub, requirePool } from "../pool/pool-gateway.ts";
import type { EnrolRequest, EnrolResponse } from "../protocol.ts";
import { signingKey } from "../tokens/broker-token.ts";
import { assertionKeyForEnrolment } from "../tokens/node-assertion.ts";
import { log } from "../core/log.ts";

export async function acceptEnrolment(env: Env, request: EnrolRequest, nowMs: number): Promise<EnrolResponse> {
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
    log.warn(`enrolment refused for ${request.hostname}: token unknown, used or expired`);
    throw unauthorized();
  }
  const pool = await requirePool(env, node.pool);
  if (previous && previous.pool !== node.pool) await poolStub(env, previous.pool).removeNode(previous.serverId);
  await poolStub(env, node.pool).registerNode(node.pool, pool.intervalMs, nodeRecordFromRow(node));
  const key = signingKey(env.SIGNING_KEY);
  const assertionKey = key ? await assertionKeyForEnrolment(key, node.serverId) : undefined;
  return { serverId: node.serverId, pool: node.pool, intervalMs: pool.intervalMs, ...(assertionKey ? { assertionKey } : {}) };
}
