/**
 * The relay's fallback (FastX's): a new session whose node cannot be reached is placed once more,
 * avoiding that node, the way the start placed it. It goes through the same domain functions
 * (`requireProfileAccess`, then `placeSession`), so the profile's ACL, policy and host list and
 * the limits the pool applies hold again, for the identity the ticket's `plc` claim vouches for
 * (groups and flags as at the start) with the start's request data. The profile is read again
 * (an ACL tightened since the start applies), and client-address rules apply to the address
 * that connects now, since that is who the new placement serves.
 */
import { BrokerError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import type { Env } from "../env.ts";
import { unwrapPool } from "../pool/pool-failure.ts";
import { poolStub } from "../pool/pool-gateway.ts";
import type { RelayTarget } from "../pool/projections.ts";
import { requireProfileAccess } from "../profiles/profiles.ts";
import { placeSession } from "../sessions/placement.ts";
import { placementIdentity, type RelayTicketClaims } from "../tokens/relay-ticket.ts";

export interface Replacement {
  serverId: string;
  /** The new reservation, or the suspended session the chain sent the user back to. */
  sessionId: string;
  target: RelayTarget;
}

function noOtherServer(detail: string): BrokerError {
  return new BrokerError("ORIGIN_UNREACHABLE", `the desktop server cannot be reached, and ${detail}`);
}

/**
 * Places the ticket's session again, avoiding `unreachable`. Throws the profile check's own
 * refusal when the user may no longer use the profile, and 502 ORIGIN_UNREACHABLE when the
 * ticket carries no placement inputs or the chain finds no other server.
 */
export async function placeAgain(env: Env, claims: RelayTicketClaims, unreachable: string, clientIp: string | undefined): Promise<Replacement> {
  if (!claims.prf || !claims.plc) {
    log.warn(`relay ticket ${claims.jti} carries no profile or placement inputs: no fallback`);
    throw noOtherServer("the session cannot be placed again from this ticket; start it again");
  }
  const identity = placementIdentity(claims.sub, claims.plc);
  const profile = await requireProfileAccess(env, claims.prf, identity, clientIp);
  const asked = claims.plc.dat["avoid"];
  const avoid = [...(Array.isArray(asked) ? asked : []), unreachable];
  const decision = await placeSession(env, identity, profile, clientIp, { ...claims.plc.dat, avoid }).catch((error: unknown) => {
    throw error instanceof BrokerError ? noOtherServer(`placing the session again failed: ${error.message}`) : error;
  });
  const target = unwrapPool(await poolStub(env, profile.pool).reachServer(decision.serverId), decision.serverId);
  return { serverId: decision.serverId, sessionId: decision.resumeSessionId ?? decision.reservationId ?? claims.sid, target };
}
