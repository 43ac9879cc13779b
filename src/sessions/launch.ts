/**
 * Launching a placed session on its node (decision 10): the start request the node's launcher
 * reads, checked before placement so a request that cannot be launched reserves nothing, and
 * sent through the pool object over the node's control channel. Ending a launched session
 * (`DELETE /v1/sessions/:id`) goes the same way.
 */
import type { Identity } from "../auth/identity.ts";
import { boundedJsonObjectSchema, type StartRequest, type StartResult, launchLoginSchema } from "../channel-protocol.ts";
import { BrokerError } from "../core/errors.ts";
import type { Env } from "../env.ts";
import { unwrapCommand } from "../pool/pool-failure.ts";
import { poolStub } from "../pool/pool-gateway.ts";
import type { PoolSession } from "../pool/select-request.ts";
import type { Profile } from "../profiles/profile-schema.ts";

export type LauncherProfile = Profile & { launcher: NonNullable<Profile["launcher"]> };

export function launchesSessions(profile: Profile): profile is LauncherProfile {
  return profile.launcher !== null;
}

/** The parts of a start request known before placement; refuses (400) what no launcher may get. */
export function launchTemplate(identity: Identity, profile: LauncherProfile, data: Record<string, unknown>): Omit<StartRequest, "sessionId"> {
  const login = launchLoginSchema.safeParse(identity.login);
  if (!login.success) throw new BrokerError("BAD_REQUEST", `the login ${JSON.stringify(identity.login.slice(0, 64))} cannot be given to a node's launcher: ${login.error.issues[0]?.message ?? "invalid"}`);
  const startData = boundedJsonObjectSchema.safeParse(data);
  if (!startData.success) throw new BrokerError("BAD_REQUEST", `data: ${startData.error.issues[0]?.message ?? "invalid"}`);
  return {
    user: { login: login.data, groups: identity.groups.filter((group) => group.length > 0 && group.length <= 256 && !/[\x00-\x1f]/.test(group)).slice(0, 256), isAdmin: identity.isAdmin },
    profile: { id: profile.id, launcher: profile.launcher.name, params: profile.launcher.params },
    data: startData.data,
  };
}

/** Sends `start` for the reservation `sessionId` on `serverId`; a refused or failed start throws the broker's error. */
export async function launchOnNode(env: Env, pool: string, serverId: string, request: StartRequest): Promise<StartResult> {
  return unwrapCommand(await poolStub(env, pool).launchSession(serverId, request), serverId);
}

/**
 * Ends a launched session: its owner or an admin. Anyone else's session is answered like one
 * that does not exist. A session the node did not launch is 409 (end it on the node).
 */
export async function terminateSession(env: Env, identity: Identity, sessions: readonly PoolSession[], sessionId: string): Promise<void> {
  const session = sessions.find((candidate) => candidate.id === sessionId && (identity.isAdmin || candidate.user === identity.login));
  if (!session) throw new BrokerError("NOT_FOUND", `you have no session ${sessionId}`);
  await terminateOnServer(env, session.pool, session.serverId, sessionId, session.user === identity.login ? ENDED_BY_USER : ENDED_BY_ADMIN);
}

export const ENDED_BY_USER = "session ended by its user";
export const ENDED_BY_ADMIN = "session ended by an administrator";

/** Sends `terminate` to the session's node; the broker's error when it could not. */
export async function terminateOnServer(env: Env, pool: string, serverId: string, sessionId: string, reason: string): Promise<void> {
  unwrapCommand(await poolStub(env, pool).terminateSession(serverId, sessionId, reason), serverId);
}
