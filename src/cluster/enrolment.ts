/**
 * Node identity: enrolment with a one-time token, and re-keys. An enrolment never replaces a
 * node: it creates a new serverId in the token's pool (a hostname or origin another node holds is
 * refused, 409). A re-key keeps the serverId and replaces the key, the origin and the assertion
 * key; it is either made with a re-key token an admin issued for that one node, or signed with
 * the node's current key. Every origin must pass the pool's rules (./origin-policy.ts). D1 is
 * written first (the durable truth); the pool object is then told, and a node it misses is
 * recovered from D1 on its next heartbeat.
 */
import { randomId, sha256Hex } from "../core/crypto.ts";
import { BrokerError, unauthorized } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { enrolNewNode, findNode, findNodeByHostname, findNodeByOrigin, findSpendableToken, type NodeIdentityInput, rekeyNode } from "../db/queries.ts";
import type { NodeRow, PoolRow } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { nodeRecordFromRow } from "../pool/node-record.ts";
import { poolStub, requirePool } from "../pool/pool-gateway.ts";
import { unwrapPool } from "../pool/pool-failure.ts";
import type { EnrolRequest, EnrolResponse, RekeyRequest } from "../protocol.ts";
import { signingKey } from "../tokens/broker-token.ts";
import { assertionKeyForEnrolment, newAssertionSalt } from "../tokens/node-assertion.ts";
import { checkOrigin, originRefusalMessage } from "./origin-policy.ts";
import { originRulesOf, poolSettingsOf } from "./pools.ts";

/** The pool's verdict on an origin: its normalised form, or 400 naming the rule it breaks. */
function allowedOrigin(pool: PoolRow, originUrl: string): string {
  const checked = checkOrigin(originUrl, originRulesOf(pool));
  if (!checked.ok) throw new BrokerError("BAD_REQUEST", `origin refused by pool ${pool.name}: ${originRefusalMessage(checked.error)}`);
  return checked.value;
}

/** 409 when another node holds the hostname or the origin. */
async function requireUnclaimed(env: Env, node: { serverId: string; hostname: string; originUrl: string }): Promise<void> {
  const [byHostname, byOrigin] = await Promise.all([findNodeByHostname(env.DB, node.hostname), findNodeByOrigin(env.DB, node.originUrl)]);
  if (byHostname && byHostname.serverId !== node.serverId) {
    throw new BrokerError("CONFLICT", `${node.hostname} is enrolled already; re-key it with a re-key token, or remove it first`);
  }
  if (byOrigin && byOrigin.serverId !== node.serverId) throw new BrokerError("CONFLICT", "another node holds this origin");
}

/** D1 refused the write because a unique hostname or origin was taken meanwhile: 409. */
function takenMeanwhile(error: unknown): never {
  if (error instanceof Error && /UNIQUE constraint failed/i.test(error.message)) throw new BrokerError("CONFLICT", "another node holds this hostname or origin");
  throw error;
}

async function answer(env: Env, pool: PoolRow, node: NodeRow): Promise<EnrolResponse> {
  await poolStub(env, pool.name).registerNode(poolSettingsOf(pool), nodeRecordFromRow(node));
  const key = signingKey(env.SIGNING_KEY);
  const assertionKey = key ? await assertionKeyForEnrolment(key, node.serverId, node.assertionSalt) : undefined;
  return { serverId: node.serverId, pool: node.pool, intervalMs: pool.intervalMs, approved: node.approved, ...(assertionKey ? { assertionKey } : {}) };
}

/** `POST /v1/agent/enrol`: a new node with an enrolment token, or a re-key with a re-key token. */
export async function acceptEnrolment(env: Env, request: EnrolRequest, nowMs: number): Promise<EnrolResponse> {
  const tokenHash = await sha256Hex(request.token);
  const token = await findSpendableToken(env.DB, tokenHash, nowMs);
  if (!token) {
    log.warn(`enrolment refused for ${request.hostname}: token unknown, used or expired`);
    throw unauthorized();
  }
  const pool = await requirePool(env, token.pool);
  const identity: NodeIdentityInput = {
    serverId: token.serverId ?? randomId("srv"),
    hostname: request.hostname,
    publicKey: request.publicKey,
    originUrl: allowedOrigin(pool, request.originUrl),
    clientAddress: request.clientAddress ?? null,
    assertionSalt: newAssertionSalt(),
    nowMs,
  };
  if (token.serverId !== null) {
    const current = await findNode(env.DB, token.serverId);
    if (!current || current.pool !== pool.name) throw unauthorized();
    if (current.hostname !== request.hostname) throw new BrokerError("CONFLICT", `this re-key token is for ${current.hostname}`);
  }
  await requireUnclaimed(env, identity);
  const stored = await (token.serverId === null
    ? enrolNewNode(env.DB, tokenHash, { ...identity, approved: !pool.requireApproval || token.preApproved })
    : rekeyNode(env.DB, identity, tokenHash)
  ).catch(takenMeanwhile);
  if (!stored) {
    log.warn(`enrolment refused for ${request.hostname}: token spent meanwhile`);
    throw unauthorized();
  }
  return answer(env, pool, stored);
}

/**
 * `POST /v1/agent/rekey`: a node replaces its own key (and may move its origin), signed with the
 * current key; the pool object checks the signature and spends the request's sequence number.
 */
export async function acceptRekey(env: Env, signed: { pool: string; serverId: string; token: string; bodyHash: string }, request: RekeyRequest, nowMs: number): Promise<EnrolResponse> {
  const current = await findNode(env.DB, signed.serverId);
  if (!current || current.pool !== signed.pool) throw unauthorized();
  unwrapPool(await poolStub(env, signed.pool).verifyRekey(signed), signed.serverId);
  const pool = await requirePool(env, current.pool);
  const identity: NodeIdentityInput = {
    serverId: current.serverId,
    hostname: current.hostname,
    publicKey: request.publicKey,
    originUrl: allowedOrigin(pool, request.originUrl),
    clientAddress: request.clientAddress ?? null,
    assertionSalt: newAssertionSalt(),
    nowMs,
  };
  await requireUnclaimed(env, identity);
  const stored = await rekeyNode(env.DB, identity).catch(takenMeanwhile);
  if (!stored) throw unauthorized();
  return answer(env, pool, stored);
}
