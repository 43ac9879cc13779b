/**
 * The answer a client gets before connecting, whichever way it got its place (a start, a resume,
 * the wait line): where the session runs, and how to reach it (a single-use relay ticket and URL,
 * or the node's client-facing address), or that it is still starting.
 */
import type { Identity } from "../auth/identity.ts";
import type { Env } from "../env.ts";
import type { Profile } from "../profiles/profile-schema.ts";
import { TICKET_PROTOCOL_PREFIX } from "../relay/relay.ts";
import { issueTicket } from "../relay/tickets.ts";
import type { RelayTicketSubject } from "../tokens/relay-ticket.ts";

/** Port of a redirect target when neither the profile nor the node names one (X2Go's SSH). */
export const DEFAULT_REDIRECT_PORT = 22;

/**
 * How to open the relay: `url` with the single-use `ticket` presented either as the WebSocket
 * subprotocol `protocol` (browsers: `new WebSocket(url, [protocol])`, with others such as
 * `binary` after it if wanted) or in the query, as the ready `connectUrl`.
 */
export interface RelayConnection {
  url: string;
  ticket: string;
  /** Epoch ms; the ticket opens one relay before then. */
  expiresAt: number;
  /** `broker-ticket.<ticket>`. */
  protocol: string;
  /** `<url>?ticket=<ticket>`. */
  connectUrl: string;
}

export interface ConnectionAnswer {
  serverId: string;
  hostname: string;
  pool: string;
  profileId: string;
  mode: Profile["mode"];
  /** The session to connect to: an existing one (resume), or the new one (its reservation's id). */
  sessionId: string;
  resumed: boolean;
  /**
   * `starting`: launched and waiting for the node's scheduler; no `relay` or `redirect` yet. The
   * client shows `message` and resumes the session once `GET /v1/sessions` lists it running.
   */
  state: "running" | "starting";
  message?: string;
  relay?: RelayConnection;
  redirect?: { host: string; port: number };
}

export interface ClientContext {
  clientIp: string | undefined;
  /** The URL the client called, to build the relay URL on the same host. */
  requestUrl: string;
}

export function startingAnswer(profile: Profile, target: { serverId: string; hostname: string; sessionId: string; resumed: boolean }, message: string): ConnectionAnswer {
  const { serverId, hostname, sessionId, resumed } = target;
  return { serverId, hostname, pool: profile.pool, profileId: profile.id, mode: profile.mode, sessionId, resumed, state: "starting", message };
}

export async function connectionAnswer(
  env: Env,
  identity: Identity,
  profile: Profile,
  target: { serverId: string; hostname: string; clientAddress: string | null; sessionId: string; resumed: boolean },
  context: ClientContext,
  placement?: RelayTicketSubject["placement"],
): Promise<ConnectionAnswer> {
  const base = {
    serverId: target.serverId,
    hostname: target.hostname,
    pool: profile.pool,
    profileId: profile.id,
    mode: profile.mode,
    sessionId: target.sessionId,
    resumed: target.resumed,
    state: "running" as const,
  };
  if (profile.mode === "redirect") return { ...base, redirect: redirectTarget(profile, target) };
  const { ticket, expiresAt } = await issueTicket(
    env,
    { login: identity.login, pool: profile.pool, serverId: target.serverId, sessionId: target.sessionId, profileId: profile.id, ...(placement ? { placement } : {}) },
    Date.now(),
  );
  const url = relayUrl(context.requestUrl, target.serverId);
  return { ...base, relay: { url, ticket, expiresAt, protocol: `${TICKET_PROTOCOL_PREFIX}${ticket}`, connectUrl: `${url}?ticket=${encodeURIComponent(ticket)}` } };
}

/** X2Go's `host=name (address:port)` first, then the node's enrolled client address, then its hostname. */
export function redirectTarget(profile: Profile, target: { hostname: string; clientAddress: string | null }): { host: string; port: number } {
  const entry = profile.hosts.find((host) => host.name === target.hostname);
  const defaultPort = typeof profile.x2goOptions["sshport"] === "number" ? profile.x2goOptions["sshport"] : DEFAULT_REDIRECT_PORT;
  if (entry?.address) return { host: entry.address, port: entry.port ?? defaultPort };
  if (target.clientAddress) {
    const [host, port] = target.clientAddress.split(":");
    return { host: host ?? target.hostname, port: port ? Number(port) : (entry?.port ?? defaultPort) };
  }
  return { host: target.hostname, port: entry?.port ?? defaultPort };
}

export function relayUrl(requestUrl: string, serverId: string): string {
  const url = new URL(requestUrl);
  const scheme = url.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${url.host}/v1/relay/${serverId}`;
}
