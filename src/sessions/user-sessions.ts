/**
 * What a client does before connecting: see its sessions anywhere in the cluster, start a
 * session on a profile (placed by the pool's chain, ACLs enforced), or resume one of its own.
 * The answer says how to connect: a relay ticket and URL, or the node's client-facing address.
 */
import type { Identity } from "../auth/identity.ts";
import { listPools } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import { poolStub } from "../pool/pool-gateway.ts";
import type { PoolSession } from "../pool/select-request.ts";
import { requireProfileAccess } from "../profiles/profiles.ts";
import type { Profile } from "../profiles/profile-schema.ts";
import { type ClientContext, type ConnectionAnswer, connectionAnswer, startingAnswer } from "./connection-answer.ts";
import { launchesSessions, launchOnNode, launchTemplate } from "./launch.ts";
import { placeSession } from "./placement.ts";
import { type QueuedAnswer, queueOrPlace } from "./wait-line.ts";

export type { ClientContext, ConnectionAnswer, RelayConnection } from "./connection-answer.ts";
export { DEFAULT_REDIRECT_PORT, redirectTarget, relayUrl } from "./connection-answer.ts";

/** Sessions of the identity across every pool; an admin may ask for everyone's (`user: null`). */
export async function listSessions(env: Env, login: string | null): Promise<PoolSession[]> {
  const pools = await listPools(env.DB);
  const perPool = await Promise.all(pools.map((pool) => poolStub(env, pool.name).listSessions(login)));
  return perPool.flat().sort((a, b) => b.startedAt - a.startedAt);
}

/**
 * Places a session with the profile (the chain may resume one of the user's). A new session of a
 * launcher profile is then started on its node: running, it is connected like any other; queued
 * by the node's scheduler, the answer is `starting` with the launcher's message. A profile with a
 * wait line answers `queued` with the place instead of failing when every server is full.
 */
export async function startSession(env: Env, identity: Identity, profileId: string, context: ClientContext, data: Record<string, unknown>): Promise<ConnectionAnswer | QueuedAnswer> {
  const profile = await requireProfileAccess(env, profileId, identity, context.clientIp);
  const launch = launchesSessions(profile) ? launchTemplate(identity, profile, data) : null;
  const placed = profile.queue?.enabled ? await queueOrPlace(env, identity, profile, context.clientIp, data, launch) : await placeSession(env, identity, profile, context.clientIp, data);
  if ("state" in placed) return placed;
  const decision = placed;
  const target = { ...decision, sessionId: decision.resumeSessionId ?? decision.reservationId ?? "", resumed: decision.resumeSessionId !== undefined };
  if (launch && !target.resumed) {
    const started = await launchOnNode(env, profile.pool, decision.serverId, { ...launch, sessionId: target.sessionId });
    if (started.state === "queued") return startingAnswer(profile, target, started.message);
  }
  if (launch && target.resumed) {
    const session = (await poolStub(env, profile.pool).listSessions(identity.login)).find((candidate) => candidate.id === target.sessionId);
    if (session?.state === "starting") return startingAnswer(profile, target, session.message ?? "starting");
  }
  // A new session's ticket carries what this placement used, for the relay's fallback (src/relay/fallback.ts).
  const placement = target.resumed ? undefined : { identity, data };
  return connectionAnswer(env, identity, profile, target, context, placement);
}

/**
 * Resumes one of the identity's own sessions. Anyone else's (admins included) is answered like
 * a session that does not exist, so the answer does not confirm that someone has that session.
 */
export async function resumeSession(env: Env, identity: Identity, sessionId: string, profileId: string, context: ClientContext): Promise<ConnectionAnswer> {
  const profile = await requireProfileAccess(env, profileId, identity, context.clientIp);
  const session = (await poolStub(env, profile.pool).listSessions(null)).find((candidate) => candidate.id === sessionId);
  if (!session || session.user !== identity.login) {
    throw new BrokerError("NOT_FOUND", `you have no session ${sessionId} in pool ${profile.pool}`);
  }
  if (profile.hosts.length > 0 && !profile.hosts.some((host) => host.name === session.hostname)) {
    throw new BrokerError("FORBIDDEN", `profile ${profile.id} does not include ${session.hostname}`);
  }
  if (session.serverStatus === "down") throw new BrokerError("NO_SERVER_AVAILABLE", `${session.hostname} is down`);
  if (session.state === "starting") return startingAnswer(profile, { ...session, sessionId, resumed: true }, session.message ?? "starting");
  const server = await poolStub(env, profile.pool).getServer(session.serverId);
  const clientAddress = server.ok ? server.value.clientAddress : null;
  return connectionAnswer(env, identity, profile, { serverId: session.serverId, hostname: session.hostname, clientAddress, sessionId, resumed: true }, context);
}
