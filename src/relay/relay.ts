/**
 * The relay (decisions 1 and 6 in docs/decisions.md): check and spend the ticket, find the node's origin,
 * and answer with `fetch(origin, upgrade)`, so the runtime pipes the frames with no JavaScript
 * per frame. The client's own credentials and cookies never reach the node; the node gets the
 * tunnel's Access service-token headers and a broker assertion naming the user and session.
 */
import { signNodeAssertion } from "../tokens/node-assertion.ts";
import { signingKey } from "../tokens/broker-token.ts";
import type { RelayTicketClaims } from "../tokens/relay-ticket.ts";
import { findProfileRow } from "../db/profile-queries.ts";
import type { Env } from "../env.ts";
import { BrokerError, unauthorized } from "../core/errors.ts";
import { unwrapPool } from "../pool/pool-failure.ts";
import { poolStub } from "../pool/pool-gateway.ts";
import { profileFromRow } from "../profiles/profiles.ts";
import { redeemTicket } from "./tickets.ts";
import { log } from "../core/log.ts";

/** Browsers cannot set headers on WebSockets: a ticket may come as the subprotocol `broker-ticket.<jwt>`. */
export const TICKET_PROTOCOL_PREFIX = "broker-ticket.";
/** How long the node's origin may take to accept the upgrade. */
export const ORIGIN_CONNECT_TIMEOUT_MS = 5_000;
const PASSED_HEADERS = ["Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions"];

export interface RelayRequest {
  serverId: string;
  ticketParam: string | undefined;
  headers: Headers;
}

/** The ticket and the subprotocols to pass on (the ticket's own entry removed). */
export function readTicket(ticketParam: string | undefined, protocolHeader: string | null): { ticket: string | null; protocols: string[] } {
  const offered = (protocolHeader ?? "").split(",").map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  const fromProtocol = offered.find((entry) => entry.startsWith(TICKET_PROTOCOL_PREFIX))?.slice(TICKET_PROTOCOL_PREFIX.length);
  return {
    ticket: ticketParam && ticketParam.length > 0 ? ticketParam : (fromProtocol ?? null),
    protocols: offered.filter((entry) => !entry.startsWith(TICKET_PROTOCOL_PREFIX)),
  };
}

/** Sent only to origins that pass the pool's origin rules (the caller checks `originAllowed`). */
async function originHeaders(env: Env, claims: RelayTicketClaims, target: { serverId: string; assertionSalt: string }, client: Headers, protocols: string[]): Promise<Headers> {
  const headers = new Headers({ Upgrade: "websocket", Connection: "Upgrade" });
  for (const name of PASSED_HEADERS) {
    const value = client.get(name);
    if (value) headers.set(name, value);
  }
  if (protocols.length > 0) headers.set("Sec-WebSocket-Protocol", protocols.join(", "));
  if (env.ACCESS_CLIENT_ID && env.ACCESS_CLIENT_SECRET) {
    headers.set("CF-Access-Client-Id", env.ACCESS_CLIENT_ID);
    headers.set("CF-Access-Client-Secret", env.ACCESS_CLIENT_SECRET);
  }
  headers.set("X-Broker-User", claims.sub);
  headers.set("X-Broker-Session", claims.sid);
  headers.set("X-Broker-Server", target.serverId);
  const key = signingKey(env.SIGNING_KEY);
  if (key) headers.set("X-Broker-Assertion", await signNodeAssertion(key, { ...target, login: claims.sub, sessionId: claims.sid }, Date.now()));
  return headers;
}

/** One attempt to open the node's WebSocket; null when the origin is unreachable or refuses. */
async function connectOrigin(originUrl: string, headers: Headers): Promise<Response | null> {
  try {
    const response = await fetch(originUrl, { headers, signal: AbortSignal.timeout(ORIGIN_CONNECT_TIMEOUT_MS) });
    if (response.status === 101 && response.webSocket) return response;
    log.warn(`origin ${originUrl} answered ${response.status} to the upgrade`);
    return null;
  } catch (error) {
    log.warn(`origin ${originUrl} unreachable: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

/**
 * Opens the relay for a WebSocket upgrade. A bad, expired or spent ticket is refused (401/403)
 * before anything reaches a node. If the node is down or its origin unreachable, a new session
 * is placed once more on another server (FastX's relay fallback); otherwise 502.
 */
export async function openRelay(env: Env, request: RelayRequest, nowMs: number): Promise<Response> {
  const { ticket, protocols } = readTicket(request.ticketParam, request.headers.get("Sec-WebSocket-Protocol"));
  if (!ticket) throw unauthorized();
  const { claims, target: found } = await redeemTicket(env, ticket, request.serverId, nowMs);
  if (!found) throw new BrokerError("NOT_FOUND", `no server ${request.serverId}`);
  const target = found;
  const stub = poolStub(env, claims.pool);
  if (!target.originAllowed) log.warn(`relay to ${request.serverId} refused: its origin is outside pool ${claims.pool}'s origin rules`);
  if (target.status !== "down" && target.originAllowed) {
    const response = await connectOrigin(target.originUrl, await originHeaders(env, claims, { serverId: request.serverId, assertionSalt: target.assertionSalt }, request.headers, protocols));
    if (response) return response;
  }
  const isNewSession = claims.sid.startsWith("rsv_");
  if (!isNewSession) throw new BrokerError("ORIGIN_UNREACHABLE", "the desktop server holding this session cannot be reached");
  await stub.markSuspect(request.serverId);
  const fallback = await stub.select({
    action: "session/start",
    user: { login: claims.sub, groups: [], isAdmin: false, isManager: false },
    local: {},
    data: { avoid: [request.serverId] },
    ...(claims.prf ? { hostnames: await profileHostnames(env, claims.prf) } : {}),
  });
  if (!fallback.ok) throw new BrokerError("ORIGIN_UNREACHABLE", "the desktop server cannot be reached and no other server is available");
  const placed = fallback.value;
  const retry = unwrapPool(await stub.reachServer(placed.serverId), placed.serverId);
  const retried = retry.originAllowed
    ? await connectOrigin(retry.originUrl, await originHeaders(env, { ...claims, sid: placed.reservationId ?? claims.sid }, { serverId: placed.serverId, assertionSalt: retry.assertionSalt }, request.headers, protocols))
    : null;
  if (retried) return retried;
  throw new BrokerError("ORIGIN_UNREACHABLE", "no desktop server could be reached");
}

/** The enrolled hostnames a profile is limited to (empty: the whole pool, or a deleted profile). */
async function profileHostnames(env: Env, profileId: string): Promise<string[]> {
  const row = await findProfileRow(env.DB, profileId);
  return row ? profileFromRow(row).hosts.map((host) => host.name) : [];
}
