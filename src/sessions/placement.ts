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
import type { SelectDecision, SelectFailure, SelectOutcome } from "../pool/select-request.ts";
import type { Profile } from "../profiles/profile-schema.ts";
import { placementUser, type SelectBody } from "./placement-request.ts";

export function selectionError(failure: SelectFailure): BrokerError {
  return new BrokerError(failure.code, failure.message);
}

function decisionOf(outcome: SelectOutcome): SelectDecision {
  if (!outcome.ok) throw selectionError(outcome.error);
  return outcome.value;
}

/** Runs a pool's chain for the caller (or, for an admin, the user the body names) and reserves the choice. */
export async function selectInPool(
  env: Env,
  pool: string,
  identity: Identity,
  body: Omit<SelectBody, "user"> & { user?: SelectBody["user"] | undefined },
  clientIp: string | undefined,
): Promise<SelectDecision> {
  const stub = await existingPool(env, pool);
  const { user: asked, ...rest } = body;
  return decisionOf(await stub.select({ ...rest, user: placementUser(identity, asked), local: clientLocal(clientIp) }));
}

/** Runs the profile's pool chain for a new session of the caller (or a resume the chain finds). */
export async function placeSession(env: Env, identity: Identity, profile: Profile, clientIp: string | undefined, data: Record<string, unknown>): Promise<SelectDecision> {
  return decisionOf(
    await poolStub(env, profile.pool).select({
      action: "session/start",
      user: placementUser(identity),
      local: clientLocal(clientIp),
      data: { ...data, profile: profile.id },
      hostnames: profile.hosts.map((host) => host.name),
      ...(profile.policy ? { policy: profile.policy } : {}),
    }),
  );
}
