/**
 * Launched sessions in the pool object (decision 10). After placement the Worker asks the object
 * to launch the new session's reservation on its node: the object sends `start` over the node's
 * control channel and keeps the launcher's answer on the reservation, so the session is listed at
 * once (launchedByServer: no "pending" until the next beat); a failed start drops the reservation, so it neither
 * counts as load nor against the user's limit. The first beat listing the session's id replaces
 * the reservation. `terminate` ends a session on its node and drops it from the lists at once.
 */
import type { StartRequest, StartResult } from "../channel-protocol.ts";
import type { NodeSession } from "../protocol.ts";
import { err, ok, type Result } from "../core/result.ts";
import type { NodeChannels } from "./node-channels.ts";
import type { NodeStore } from "./node-store.ts";
import type { Reservation } from "./placement.ts";
import type { PlacementStore } from "./placement-store.ts";
import type { CommandFailure } from "./pool-failure.ts";

export interface LaunchDeps {
  nodes: NodeStore;
  placement: PlacementStore;
  channels: NodeChannels;
}

/** Launches the session a placement reserved; `request.sessionId` is the reservation's id. */
export async function launchReserved(deps: LaunchDeps, serverId: string, request: StartRequest, nowMs: number): Promise<Result<StartResult, CommandFailure>> {
  const reserved = deps.placement.liveReservations(nowMs).find((held) => held.id === request.sessionId);
  if (!reserved || reserved.serverId !== serverId || reserved.user !== request.user.login || reserved.launch) {
    return err({ code: "UNKNOWN_SESSION", message: `no pending start ${request.sessionId} of ${request.user.login} on ${serverId}` });
  }
  const answer = await deps.channels.start(serverId, request, nowMs);
  if (!answer.ok) {
    deps.placement.deleteReservations([request.sessionId]);
    return answer;
  }
  const { value } = answer;
  deps.placement.markLaunched(request.sessionId, {
    state: value.state === "running" ? "running" : "starting",
    profileId: request.profile.id,
    ...(value.message ? { message: value.message } : {}),
    ...(value.state === "running" && value.display ? { display: value.display } : {}),
  });
  return answer;
}

/** Ends a launched session on its node; it leaves the pool's lists at once. */
export async function terminateLaunched(deps: LaunchDeps, serverId: string, sessionId: string, reason: string, nowMs: number): Promise<Result<void, CommandFailure>> {
  const answer = await deps.channels.terminate(serverId, sessionId, reason, nowMs);
  if (!answer.ok) return answer;
  deps.placement.deleteReservations([sessionId]);
  deps.nodes.forgetSession(serverId, sessionId);
  return ok(undefined);
}

/**
 * Launched sessions that no beat lists yet, per server, as the node will report them: the
 * balancer sees them (a returning user is sent back to a session still starting) and the lists
 * show them. They are no longer counted as pending placements.
 */
export function launchedByServer(reservations: readonly Reservation[]): Map<string, NodeSession[]> {
  const byServer = new Map<string, NodeSession[]>();
  for (const reservation of reservations) {
    const launch = reservation.launch;
    if (!launch) continue;
    const session: NodeSession = {
      id: reservation.id,
      user: reservation.user,
      state: launch.state,
      startedAt: reservation.createdAt,
      profileId: launch.profileId,
      ...(launch.display ? { display: launch.display } : {}),
      ...(launch.message ? { message: launch.message } : {}),
    };
    byServer.set(reservation.serverId, [...(byServer.get(reservation.serverId) ?? []), session]);
  }
  return byServer;
}
