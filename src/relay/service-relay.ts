/**
 * The relay for tunnels to a node's TCP service (`GET /v1/tunnels/:serverId`): check and spend
 * the service ticket, then pass the WebSocket through to the node's origin as the desktop relay
 * does, with a service assertion (src/tokens/service-assertion.ts) naming the user and the
 * service. A desktop relay ticket is refused here, and a service ticket at `/v1/relay`: each
 * kind has its own audience. There is no fallback to another server: a tunnel goes to the server
 * the user named (where their X2Go session lives, say), or nowhere.
 */
import { BrokerError, unauthorized } from "../core/errors.ts";
import { log } from "../core/log.ts";
import type { Env } from "../env.ts";
import { signingKey } from "../tokens/broker-token.ts";
import { signServiceAssertion } from "../tokens/service-assertion.ts";
import { answerUpgrade, connectOrigin, originHeaders, readTicket, type RelayRequest } from "./relay.ts";
import { redeemServiceTicket } from "./tickets.ts";

/**
 * Opens the tunnel for a WebSocket upgrade. A bad, expired, spent or desktop ticket is refused
 * (401; 403 for another server's) before anything reaches a node; a server that is gone is 404,
 * one that is down, outside the pool's origin rules or unreachable is 502.
 */
export async function openServiceRelay(env: Env, request: RelayRequest, nowMs: number): Promise<Response> {
  const offer = readTicket(request.ticketParam, request.headers.get("Sec-WebSocket-Protocol"));
  if (!offer.ticket) throw unauthorized();
  const { claims, target } = await redeemServiceTicket(env, offer.ticket, request.serverId, nowMs);
  if (!target) throw new BrokerError("NOT_FOUND", `no server ${request.serverId}`);
  if (target.status === "down" || target.status === "pending") {
    throw new BrokerError("ORIGIN_UNREACHABLE", `${target.hostname} is ${target.status}`);
  }
  if (!target.originAllowed) {
    log.warn(`tunnel to ${request.serverId} refused: its origin is outside pool ${claims.pool}'s origin rules`);
    throw new BrokerError("ORIGIN_UNREACHABLE", "the server cannot be reached");
  }
  const key = signingKey(env.SIGNING_KEY);
  const subject = { serverId: request.serverId, assertionSalt: target.assertionSalt, login: claims.sub, service: claims.svc };
  const assertion = key ? await signServiceAssertion(key, subject, Date.now()) : null;
  const informational = { "X-Broker-User": claims.sub, "X-Broker-Server": request.serverId, "X-Broker-Service": claims.svc };
  const response = await connectOrigin(target.originUrl, originHeaders(env, informational, assertion, request.headers, offer.protocols));
  if (!response) throw new BrokerError("ORIGIN_UNREACHABLE", "the server's gateway cannot be reached");
  log.info(`tunnel: ${claims.sub} to ${claims.svc} on ${target.hostname} (profile ${claims.prf})`);
  return answerUpgrade(response, offer.ticketProtocol);
}
