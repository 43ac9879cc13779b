/**
 * The wait line as clients and admins use it (the pool object holds it: src/pool/wait-line*.ts).
 * A start of a queueing profile that finds every server full gets a place (`queued`); the client
 * asks `GET /v1/queue/:id` (long-poll) or listens on its events until the place turns into the
 * same connection answer a direct start gives. A queue id names its pool: `<pool>.<entry>`.
 */
import { z } from "zod";
import type { Identity } from "../auth/identity.ts";
import type { StartRequest } from "../channel-protocol.ts";
import { BrokerError } from "../core/errors.ts";
import type { Env } from "../env.ts";
import { existingPool, poolStub } from "../pool/pool-gateway.ts";
import type { SelectDecision } from "../pool/select-request.ts";
import type { WaitView } from "../pool/wait-line.ts";
import { requireProfileAccess } from "../profiles/profiles.ts";
import type { Profile } from "../profiles/profile-schema.ts";
import { type ClientContext, type ConnectionAnswer, connectionAnswer, startingAnswer } from "./connection-answer.ts";
import { selectionError, sessionStartRequest } from "./placement.ts";

export const queueIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}\.wq_[A-Za-z0-9]{20}$/, "a queue id is <pool>.wq_<20 letters or digits>, as a start answered it");

export interface QueuedPlace {
  id: string;
  /** 1 for the head of the line. */
  position: number;
  /** Epoch ms: when the place was taken, and when it lapses. */
  since: number;
  expiresAt: number;
  /** From the gaps between recent placements from this line; absent when there is no honest figure. */
  estimateSeconds?: number;
  /** For people: "all servers are busy; you are number 3 in line". */
  message: string;
}

/** The answer of a start (202) or a queue read while the place is waiting. */
export interface QueuedAnswer {
  state: "queued";
  pool: string;
  profileId: string;
  queued: QueuedPlace;
}

export function waitMessage(view: Pick<WaitView, "position" | "estimateMs">): string {
  if (view.position === null) return "your session is being started";
  const estimate = view.estimateMs === undefined ? "" : ` (about ${Math.max(1, Math.round(view.estimateMs / 1000))} s)`;
  return `all servers are busy; you are number ${view.position} in line${estimate}`;
}

export function queuedAnswer(pool: string, view: WaitView): QueuedAnswer {
  return {
    state: "queued",
    pool,
    profileId: view.profileId,
    queued: {
      id: `${pool}.${view.id}`,
      position: view.position ?? 0,
      since: view.since,
      expiresAt: view.expiresAt,
      ...(view.estimateMs === undefined ? {} : { estimateSeconds: Math.round(view.estimateMs / 1000) }),
      message: waitMessage(view),
    },
  };
}

/** A start of a queueing profile: the placement, or the caller's place in line. Full line and other failures throw. */
export async function queueOrPlace(
  env: Env,
  identity: Identity,
  profile: Profile,
  clientIp: string | undefined,
  data: Record<string, unknown>,
  launch: Omit<StartRequest, "sessionId"> | null,
  graceMs?: number,
): Promise<SelectDecision | QueuedAnswer> {
  const queue = profile.queue;
  if (!queue) throw new BrokerError("INTERNAL", `profile ${profile.id} has no wait line`);
  const answer = await poolStub(env, profile.pool).placeOrQueue({
    start: { select: sessionStartRequest(identity, profile, clientIp, data), launch },
    user: identity.login,
    profileId: profile.id,
    maxLength: queue.maxLength,
    maxWaitMs: queue.maxWaitSeconds * 1000,
    ...(graceMs === undefined ? {} : { graceMs }),
  });
  if (answer.kind === "failed") throw selectionError(answer.failure);
  return answer.kind === "placed" ? answer.decision : queuedAnswer(profile.pool, answer.view);
}

function parseQueueId(queueId: string): { pool: string; entryId: string } {
  const [pool = "", entryId = ""] = queueId.split(".");
  return { pool, entryId };
}

const notQueued = (queueId: string) => new BrokerError("NOT_FOUND", `you have no place ${queueId} in a line`);

export interface QueueWait {
  /** Hold the answer until the place changes, at most this long (0: answer now). */
  waitMs: number;
  /** The position the client last saw: a different one answers at once. */
  knownPosition?: number;
}

/**
 * The caller's place: still waiting (`queued`), or what it became. A placed entry gets the answer
 * a start gets (a fresh ticket on every read, the profile's ACL checked again); a failed one
 * throws its error (expired or removed: 410).
 */
export async function queueStatus(env: Env, identity: Identity, queueId: string, context: ClientContext, wait: QueueWait): Promise<ConnectionAnswer | QueuedAnswer> {
  const { pool, entryId } = parseQueueId(queueId);
  const stub = await existingPool(env, pool).catch(() => {
    throw notQueued(queueId);
  });
  // An evicted object drops held calls: answer what the line says now.
  const view = await stub.watchQueued(entryId, identity.login, wait.waitMs, wait.knownPosition).catch(() => stub.queuedEntry(entryId, identity.login));
  if (!view) throw notQueued(queueId);
  if (view.failed) throw new BrokerError(view.failed.code, view.failed.message);
  if (!view.placed || view.placed.launch?.state === "launching") return queuedAnswer(pool, view);
  const profile = await requireProfileAccess(env, view.profileId, identity, context.clientIp).catch(async (error: unknown) => {
    await stub.cancelQueued(entryId, identity.login);
    throw error;
  });
  const { serverId, hostname, clientAddress, reservationId, resumeSessionId } = view.placed;
  const target = { serverId, hostname, clientAddress, sessionId: resumeSessionId ?? reservationId ?? "", resumed: resumeSessionId !== undefined };
  if (view.placed.launch?.state === "starting") return startingAnswer(profile, target, view.placed.launch.message ?? "starting");
  return connectionAnswer(env, identity, profile, target, context);
}

/** The caller leaves the line (or forgets a settled place). */
export async function leaveQueue(env: Env, identity: Identity, queueId: string): Promise<void> {
  const { pool, entryId } = parseQueueId(queueId);
  const stub = await existingPool(env, pool).catch(() => {
    throw notQueued(queueId);
  });
  if (!(await stub.cancelQueued(entryId, identity.login))) throw notQueued(queueId);
}

/** An admin's view of a pool's line, in order. */
export async function poolQueue(env: Env, pool: string): Promise<WaitView[]> {
  return (await existingPool(env, pool)).listQueue();
}

/** An admin takes someone out of the line; the client is told (410). */
export async function removeFromQueue(env: Env, pool: string, entryId: string): Promise<void> {
  if (!(await (await existingPool(env, pool)).removeQueued(entryId))) throw new BrokerError("NOT_FOUND", `nobody waits as ${entryId} in pool ${pool}`);
}
