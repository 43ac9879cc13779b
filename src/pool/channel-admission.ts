/**
 * Admits a node's control channel in its pool object: the upgrade (`GET /v1/agent/channel`,
 * forwarded by the Worker) carries a token the node signed with its Ed25519 key, under the same
 * rules as a heartbeat's: audience `broker:channel`, at most 60 s, a `seq` above the last accepted
 * one (consumed here, so the upgrade cannot be replayed), and `bh` the hash of no bytes (an upgrade
 * has no body; the audience and the spent `seq` are what bind the token to this one upgrade).
 * A refusal is an empty response whose X-Pool-Failure header names the reason; the Worker turns it
 * into the error envelope (and recovers a node the object lost, as for heartbeats).
 */
import { bearerToken } from "../auth/admin.ts";
import { CHANNEL_AUDIENCE } from "../protocol.ts";
import { peekNodeToken } from "../tokens/node-token.ts";
import type { ChannelHub } from "./channel-hub.ts";
import type { NodeRequests } from "./node-requests.ts";
import type { NodeStore } from "./node-store.ts";
import type { PoolFailure } from "./pool-failure.ts";

/** base64url SHA-256 of no bytes: the `bh` of a channel token. */
export const EMPTY_BODY_HASH = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
/** Names the PoolFailure of a refused upgrade, between the object and the Worker only. */
export const POOL_FAILURE_HEADER = "X-Pool-Failure";

function refuse(failure: PoolFailure): Response {
  return new Response(null, { status: failure === "stale-heartbeat" ? 409 : 401, headers: { [POOL_FAILURE_HEADER]: failure } });
}

export interface ChannelAdmissionDeps {
  requests: NodeRequests;
  nodes: NodeStore;
  hub: ChannelHub;
}

/** Verifies the upgrade and accepts the channel (101), replacing the node's older one; refuses otherwise. */
export async function admitChannel(request: Request, deps: ChannelAdmissionDeps, nowMs: number): Promise<Response> {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response(null, { status: 426, headers: { Upgrade: "websocket" } });
  const token = bearerToken(request.headers.get("Authorization") ?? undefined);
  const routing = token ? peekNodeToken(token) : null;
  if (!token || !routing) return refuse("bad-heartbeat");
  const verdict = await deps.requests.verify({ ...routing, token, bodyHash: EMPTY_BODY_HASH }, CHANNEL_AUDIENCE);
  if (!verdict.ok) return refuse(verdict.error);
  deps.nodes.saveSeq(routing.serverId, verdict.value.seq);
  const client = deps.hub.accept(routing.serverId, verdict.value.node.publicKeyJwk, nowMs);
  return new Response(null, { status: 101, webSocket: client });
}
