/**
 * What the X2Go answers read from pool objects: a pool's sessions of the user and, for profiles
 * over the whole pool, a real server hostname to show as their host; the `x2golistsessions` line
 * of the session a selectsession sends the user back to, with the fields its node reported.
 */
import type { Env } from "../env.ts";
import { poolStub } from "../pool/pool-gateway.ts";
import type { PoolSession } from "../pool/select-request.ts";
import type { AdminServerView } from "../pool/server-view.ts";
import { sessionInfoLine } from "./session-line.ts";
import { x2goHost } from "./x2go-text.ts";

export interface PoolListing {
  /** The user's sessions in the pool, on approved servers. */
  sessions: PoolSession[];
  /** The host a profile without hosts shows: a server taking new sessions now; absent if none is or it was not asked for. */
  serverHost?: string;
}

/**
 * The first up server (not down, draining or pending) by hostname, as x2gobroker shows the first
 * host of a profile. Deterministic, so a listing does not change between two logins; running
 * the placement chain per listing would cost a selection and could still differ at selectsession.
 */
export function listingHost(servers: ReadonlyArray<Pick<AdminServerView, "hostname" | "status">>): string | undefined {
  let first: string | undefined;
  for (const server of servers) {
    if (server.status === "up" && (first === undefined || server.hostname < first)) first = server.hostname;
  }
  return first;
}

/** The user's sessions in `pool`, and its servers' listing host when a listed profile spans the whole pool (`wantHost`). */
export async function poolListing(env: Env, pool: string, login: string, wantHost: boolean): Promise<PoolListing> {
  const stub = poolStub(env, pool);
  if (!wantHost) return { sessions: await stub.listSessions(login) };
  const [sessions, servers] = await Promise.all([stub.listSessions(login), stub.listServers()]);
  const serverHost = listingHost(servers);
  return { sessions, ...(serverHost === undefined ? {} : { serverHost }) };
}

/** Where the user is sent back: the session, its server, and the host the answer's `SERVER:` names. */
export interface ResumeTarget {
  sessionId: string;
  serverId: string;
  host: string;
}

/**
 * The `x2golistsessions` line of `login`'s session on its server, with what the node reported of
 * it (pid, cookie, ports…); undefined if the server no longer shows it. Its host field is the
 * `SERVER:` host, not the node's name: x2goclient 4.1.2 resumes by connecting to the line's host
 * ("Resuming session with id … on: <host>") with the `SERVER:` port.
 */
export async function resumedSessionLine(env: Env, pool: string, login: string, target: ResumeTarget, nowMs: number): Promise<string | undefined> {
  const server = await poolStub(env, pool).getServer(target.serverId);
  if (!server.ok || server.value.status === "pending") return undefined;
  const session = server.value.sessions.find((candidate) => candidate.id === target.sessionId && candidate.user === login);
  return session ? sessionInfoLine({ ...session, hostname: x2goHost(target.host) }, nowMs) : undefined;
}
