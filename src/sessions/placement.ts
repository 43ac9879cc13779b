/**
 * Placing a user in a pool: `POST /v1/pools/:pool/select` and a profile's session start both ask
 * the pool object to run its chain, for the user `placementUser` allows, and turn a failure into
 * the broker's error (the trace stays in the decision log).
 */
import type { Identity } from "../auth/identity.ts";
import { clientLocal } from "../core/request-context.ts";
import { BrokerError } from "../core/errors.ts";
import type { Env } from "../env.ts";
import { existingPool, poolStub } from "../pool/pool-gateway.ts";
import type { SelectDecision, SelectFailure, SelectOutcome, SelectRequest } from "../pool/select-request.ts";
import { getProfile, requireProfileAccess } from "../profiles/profiles.ts";
import type { Profile } from "../profiles/profile-schema.ts";
import { placementUser, type SelectBody } from "./placement-request.ts";

export function selectionError(failure: SelectFailure): BrokerError {
  return new BrokerError(failure.code, failure.message);
}

function decisionOf(outcome: SelectOutcome): SelectDecision {
  if (!outcome.ok) throw selectionError(outcome.error);
  return outcome.value;
}

/**
 * Runs a pool's chain and reserves the choice. A user selects as themselves and must name a
 * profile of this pool that admits them (its ACL, policy, hosts and per-user limit apply, as for
 * a session start); an admin may select for any user, with or without a profile.
 */
export async function selectInPool(
  env: Env,
  pool: string,
  identity: Identity,
  body: Omit<SelectBody, "user"> & { user?: SelectBody["user"] | undefined; profileId?: string | undefined },
  clientIp: string | undefined,
): Promise<SelectDecision> {
  const stub = await existingPool(env, pool);
  const { user: asked, profileId, ...rest } = body;
  const user = placementUser(identity, asked);
  if (profileId === undefined && !identity.isAdmin) throw new BrokerError("BAD_REQUEST", "name the profile to place with (profileId)");
  const profile = profileId === undefined ? null : await profileForSelect(env, identity, profileId, pool, clientIp);
  return decisionOf(
    await stub.select({
      ...rest,
      user,
      local: clientLocal(clientIp),
      ...(profile ? profileScope(profile, rest.data) : {}),
    }),
  );
}

/** A profile of `pool` the caller may use (admins: any); another pool's is answered like a missing one. */
async function profileForSelect(env: Env, identity: Identity, profileId: string, pool: string, clientIp: string | undefined): Promise<Profile> {
  const profile = identity.isAdmin ? await getProfile(env, profileId) : await requireProfileAccess(env, profileId, identity, clientIp);
  if (profile.pool !== pool) throw new BrokerError("NOT_FOUND", `no profile named ${profileId}`);
  return profile;
}

/** What a profile adds to a placement: its hosts, policy override and per-user limit; a launcher profile needs nodes it can command. */
function profileScope(profile: Profile, data: Record<string, unknown>): Pick<SelectRequest, "data" | "hostnames" | "maxUserSessions" | "policy" | "needsChannel"> {
  return {
    data: { ...data, profile: profile.id },
    hostnames: profile.hosts.map((host) => host.name),
    maxUserSessions: profile.maxSessionsPerUser,
    ...(profile.launcher ? { needsChannel: true } : {}),
    ...(profile.policy ? { policy: profile.policy } : {}),
  };
}

/** The placement a session start of the caller with the profile asks the pool for. */
export function sessionStartRequest(identity: Identity, profile: Profile, clientIp: string | undefined, data: Record<string, unknown>): SelectRequest {
  return { action: "session/start", user: placementUser(identity), local: clientLocal(clientIp), ...profileScope(profile, data) };
}

/** Runs the profile's pool chain for a new session of the caller (or a resume the chain finds). */
export async function placeSession(env: Env, identity: Identity, profile: Profile, clientIp: string | undefined, data: Record<string, unknown>): Promise<SelectDecision> {
  return decisionOf(await poolStub(env, profile.pool).select(sessionStartRequest(identity, profile, clientIp, data)));
}
