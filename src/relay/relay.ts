/**
 * The relay (decisions 1 and 6 in docs/decisions.md): check and spend the ticket, find the node's origin,
 * and answer with `fetch(origin, upgrade)`, so the runtime pipes the frames with no JavaScript
 * per frame. The client's own credentials and cookies never reach the node; the node gets the
 * tunnel's Access service-token headers and a broker assertion naming the user and session.
 */
import { signNodeAssertion } from "../tokens/node-assertion.ts";
import { signingKey } from "../tokens/broker-token.ts";
import type { Env } from "../env.ts";
import { BrokerError, unauthorized } from "../core/errors.ts";
import { poolStub } from "../pool/pool-gateway.ts";
import type { RelayTarget } from "../pool/projections.ts";
import { placeAgain } from "./fallback.ts";
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
  /** The connecting client's address: client-address rules of a fallback placement apply to it. */
  clientIp: string | undefined;
}

export interface TicketOffer {
  ticket: string | null;
  /** The subprotocols to pass on to the node: the offered ones but the ticket's entry. */
  protocols: string[];
  /** The ticket's entry as the client offered it, if it did (the 101 may have to select it). */
  ticketProtocol: string | null;
}

/** The ticket (the query's first, else the subprotocol's) and the subprotocols to pass on. */
export function readTicket(ticketParam: string | undefined, protocolHeader: string | null): TicketOffer {
  const offered = (protocolHeader ?? "").split(",").map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  const ticketProtocol = offered.find((entry) => entry.startsWith(TICKET_PROTOCOL_PREFIX)) ?? null;
  return {
    ticket: ticketParam && ticketParam.length > 0 ? ticketParam : (ticketProtocol?.slice(TICKET_PROTOCOL_PREFIX.length) ?? null),
    protocols: offered.filter((entry) => !entry.startsWith(TICKET_PROTOCOL_PREFIX)),
    ticketProtocol,
  };
}

/**
 * The upgrade request for a node's origin: the client's WebSocket headers, the tunnel's Access
 * service-token headers, informational `X-Broker-*` headers and the assertion, the one thing the
 * node trusts. Sent only to origins that pass the pool's origin rules (the caller checks
 * `originAllowed`).
 */
export function originHeaders(env: Env, informational: Record<string, string>, assertion: string | null, client: Headers, protocols: string[]): Headers {
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
  for (const [name, value] of Object.entries(informational)) headers.set(name, value);
  if (assertion) headers.set("X-Broker-Assertion", assertion);
  return headers;
}

async function desktopHeaders(env: Env, user: { sub: string; sid: string }, node: { serverId: string; assertionSalt: string }, client: Headers, protocols: string[]): Promise<Headers> {
  const key = signingKey(env.SIGNING_KEY);
  const assertion = key ? await signNodeAssertion(key, { ...node, login: user.sub, sessionId: user.sid }, Date.now()) : null;
  return originHeaders(env, { "X-Broker-User": user.sub, "X-Broker-Session": user.sid, "X-Broker-Server": node.serverId }, assertion, client, protocols);
}

/** One attempt to open the node's WebSocket; null when the origin is unreachable or refuses. */
export async function connectOrigin(originUrl: string, headers: Headers): Promise<Response | null> {
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
 * The 101 for the client. A client that offered subprotocols fails a 101 selecting none (browsers,
 * `ws`), and the ticket's entry never reaches the node; so when the node selects none and the
 * client offered the ticket's entry, the 101 selects that entry. Only then is a Response built
 * around the node's WebSocket (the runtime still pipes it: see the relay bench); otherwise the
 * node's answer is returned as it is.
 */
export function answerUpgrade(origin: Response, ticketProtocol: string | null): Response {
  if (!ticketProtocol || origin.headers.has("Sec-WebSocket-Protocol")) return origin;
  const headers = new Headers(origin.headers);
  headers.set("Sec-WebSocket-Protocol", ticketProtocol);
  return new Response(null, { status: 101, statusText: origin.statusText, headers, webSocket: origin.webSocket });
}

/**
 * Opens the relay for a WebSocket upgrade. A bad, expired or spent ticket is refused (401/403)
 * before anything reaches a node. If the node is down or its origin unreachable, a new session
 * is placed once more on another server as the start placed it (./fallback.ts); otherwise 502.
 */
export async function openRelay(env: Env, request: RelayRequest, nowMs: number): Promise<Response> {
  const offer = readTicket(request.ticketParam, request.headers.get("Sec-WebSocket-Protocol"));
  if (!offer.ticket) throw unauthorized();
  const { claims, target } = await redeemTicket(env, offer.ticket, request.serverId, nowMs);
  if (!target) throw new BrokerError("NOT_FOUND", `no server ${request.serverId}`);
  const connect = async (serverId: string, where: RelayTarget, sessionId: string) => {
    if (!where.originAllowed) {
      log.warn(`relay to ${serverId} refused: its origin is outside pool ${claims.pool}'s origin rules`);
      return null;
    }
    const node = { serverId, assertionSalt: where.assertionSalt };
    const response = await connectOrigin(where.originUrl, await desktopHeaders(env, { sub: claims.sub, sid: sessionId }, node, request.headers, offer.protocols));
    return response && answerUpgrade(response, offer.ticketProtocol);
  };
  if (target.status !== "down") {
    const response = await connect(request.serverId, target, claims.sid);
    if (response) return response;
  }
  const isNewSession = claims.sid.startsWith("rsv_");
  if (!isNewSession) throw new BrokerError("ORIGIN_UNREACHABLE", "the desktop server holding this session cannot be reached");
  await poolStub(env, claims.pool).markSuspect(request.serverId, claims.sid);
  const again = await placeAgain(env, claims, request.serverId, request.clientIp);
  const retried = await connect(again.serverId, again.target, again.sessionId);
  if (retried) return retried;
  throw new BrokerError("ORIGIN_UNREACHABLE", "no desktop server could be reached");
}
