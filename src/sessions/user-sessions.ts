/**
 * What a client does before connecting: see its sessions anywhere in the cluster, start a
 * session on a profile (placed by the pool's chain, ACLs enforced), or resume one of its own.
 * The answer says how to connect: a relay ticket and URL, or the node's client-facing address.
 */
import type { Identity } from "../auth/identity.ts";
import { listPools } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import { poolStub } from "../pool/pool-gateway.ts";
import type { PoolSession } from "../pool/select-request.ts";
import { requireProfileAccess } from "../profiles/profiles.ts";
import type { Profile } from "../profiles/profile-schema.ts";
import { TICKET_PROTOCOL_PREFIX } from "../relay/relay.ts";
import { issueTicket } from "../relay/tickets.ts";
import type { RelayTicketSubject } from "../tokens/relay-ticket.ts";
import { launchesSessions, launchOnNode, launchTemplate } from "./launch.ts";
import { placeSession } from "./placement.ts";

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

/** Sessions of the identity across every pool; an admin may ask for everyone's (`user: null`). */
export async function listSessions(env: Env, login: string | null): Promise<PoolSession[]> {
  const pools = await listPools(env.DB);
  const perPool = await Promise.all(pools.map((pool) => poolStub(env, pool.name).listSessions(login)));
  return perPool.flat().sort((a, b) => b.startedAt - a.startedAt);
}

/**
 * Places a session with the profile (the chain may resume one of the user's). A new session of a
 * launcher profile is then started on its node: running, it is connected like any other; queued
 * by the node's scheduler, the answer is `starting` with the launcher's message.
 */
export async function startSession(env: Env, identity: Identity, profileId: string, context: ClientContext, data: Record<string, unknown>): Promise<ConnectionAnswer> {
  const profile = await requireProfileAccess(env, profileId, identity, context.clientIp);
  const launch = launchesSessions(profile) ? launchTemplate(identity, profile, data) : null;
  const decision = await placeSession(env, identity, profile, context.clientIp, data);
  const target = { ...decision, sessionId: decision.resumeSessionId ?? decision.reservationId ?? "", resumed: decision.resumeSessionId !== undefined };
  if (launch && !target.resumed) {
    const started = await launchOnNode(env, profile.pool, decision.serverId, { ...launch, sessionId: target.sessionId });
    if (started.state === "queued") return startingAnswer(profile, target, started.message);
  }
  if (launch && target.resumed) {
    const session = (await poolStub(env, profile.pool).listSessions(identity.login)).find((candidate) => candidate.id === target.sessionId);
    if (session?.state === "starting") return startingAnswer(profile, target, session.message ?? "starting");
  }
  // A new session's ticket carries what this placement used, for the relay's fallback (src/relay/fallback.ts).
  const placement = target.resumed ? undefined : { identity, data };
  return connectionAnswer(env, identity, profile, target, context, placement);
}

function startingAnswer(profile: Profile, target: { serverId: string; hostname: string; sessionId: string; resumed: boolean }, message: string): ConnectionAnswer {
  const { serverId, hostname, sessionId, resumed } = target;
  return { serverId, hostname, pool: profile.pool, profileId: profile.id, mode: profile.mode, sessionId, resumed, state: "starting", message };
}

/**
 * Resumes one of the identity's own sessions. Anyone else's (admins included) is answered like
 * a session that does not exist, so the answer does not confirm that someone has that session.
 */
export async function resumeSession(env: Env, identity: Identity, sessionId: string, profileId: string, context: ClientContext): Promise<ConnectionAnswer> {
  const profile = await requireProfileAccess(env, profileId, identity, context.clientIp);
  const session = (await poolStub(env, profile.pool).listSessions(null)).find((candidate) => candidate.id === sessionId);
  if (!session || session.user !== identity.login) {
    throw new BrokerError("NOT_FOUND", `you have no session ${sessionId} in pool ${profile.pool}`);
  }
  if (profile.hosts.length > 0 && !profile.hosts.some((host) => host.name === session.hostname)) {
    throw new BrokerError("FORBIDDEN", `profile ${profile.id} does not include ${session.hostname}`);
  }
  if (session.serverStatus === "down") throw new BrokerError("NO_SERVER_AVAILABLE", `${session.hostname} is down`);
  if (session.state === "starting") return startingAnswer(profile, { ...session, sessionId, resumed: true }, session.message ?? "starting");
  const server = await poolStub(env, profile.pool).getServer(session.serverId);
  const clientAddress = server.ok ? server.value.clientAddress : null;
  return connectionAnswer(env, identity, profile, { serverId: session.serverId, hostname: session.hostname, clientAddress, sessionId, resumed: true }, context);
}

async function connectionAnswer(
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
