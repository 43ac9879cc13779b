/**
 * Tunnels to a node's TCP service (issue 17): what native clients (OpenSSH, X2Go over SSH, RDP)
 * use through the relay, by way of the `edge-desktop` helper. `POST /v1/tunnels` issues a service
 * ticket for one server of one profile, only when the profile's ACL admits the caller from their
 * address (`requireProfileAccess`, the same check as a session start), the profile names a
 * service, and the server is one the profile may use. The ticket opens
 * `GET /v1/tunnels/:serverId` once (src/relay/service-relay.ts); the node's gateway maps the
 * service name to an endpoint of its own, so no client ever learns a port on the node.
 */
import type { Identity } from "../auth/identity.ts";
import { BrokerError } from "../core/errors.ts";
import type { Env } from "../env.ts";
import { poolStub } from "../pool/pool-gateway.ts";
import { requireProfileAccess } from "../profiles/profiles.ts";
import { TICKET_PROTOCOL_PREFIX } from "../relay/relay.ts";
import { issueServiceTicketFor } from "../relay/tickets.ts";
import type { ClientContext, RelayConnection } from "../sessions/user-sessions.ts";
import { matchProfileServer } from "./server-match.ts";

export interface TunnelRequest {
  profileId: string;
  /** The server: its serverId, its hostname, or the host an X2Go selectsession answered. */
  server: string;
}

export interface TunnelAnswer {
  serverId: string;
  hostname: string;
  pool: string;
  profileId: string;
  service: string;
  relay: RelayConnection;
}

/** `ws(s)://<the host the client called>/v1/tunnels/<serverId>`. */
export function tunnelUrl(requestUrl: string, serverId: string): string {
  const url = new URL(requestUrl);
  return `${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}/v1/tunnels/${serverId}`;
}

/**
 * Issues a service ticket. 404 for a profile the caller may not use (like a missing one) and for
 * a server the profile does not cover; 409 `CONFLICT` for a profile without a service or a name
 * that fits several servers; 503 `NO_SERVER_AVAILABLE` for a server that is down.
 */
export async function openTunnel(env: Env, identity: Identity, request: TunnelRequest, context: ClientContext): Promise<TunnelAnswer> {
  const profile = await requireProfileAccess(env, request.profileId, identity, context.clientIp);
  if (!profile.service) throw new BrokerError("CONFLICT", `profile ${profile.id} offers no service to tunnel to`);
  const servers = await poolStub(env, profile.pool).listServers();
  const matched = matchProfileServer(profile, servers, request.server);
  if (!matched.ok) {
    if (matched.error === "ambiguous") throw new BrokerError("CONFLICT", `several servers of profile ${profile.id} answer to ${request.server}: name one by its hostname or serverId`);
    throw new BrokerError("NOT_FOUND", `profile ${profile.id} has no server ${request.server}`);
  }
  const server = matched.value;
  if (server.status === "down") throw new BrokerError("NO_SERVER_AVAILABLE", `${server.hostname} is down`);
  const subject = { login: identity.login, pool: profile.pool, serverId: server.serverId, service: profile.service, profileId: profile.id };
  const { ticket, expiresAt } = await issueServiceTicketFor(env, subject, Date.now());
  const url = tunnelUrl(context.requestUrl, server.serverId);
  return {
    serverId: server.serverId,
    hostname: server.hostname,
    pool: profile.pool,
    profileId: profile.id,
    service: profile.service,
    relay: { url, ticket, expiresAt, protocol: `${TICKET_PROTOCOL_PREFIX}${ticket}`, connectUrl: `${url}?ticket=${encodeURIComponent(ticket)}` },
  };
}
