/**
 * The tasks of the X2Go broker protocol, independent of the frontend's wire format:
 * authenticate, then list the profiles the user may see or select a server for one.
 *
 * selectsession never answers with an HTTP error once authenticated: python-x2go crashes on a
 * non-200 selectsession (KeyError), so failures become x2gobroker's pseudo-hosts, which both
 * clients report when they fail to connect. An unknown profile and a profile the user's ACL
 * refuses both answer `no-server-available` port 22 (x2gobroker's unknown-profile answer), so a
 * hidden profile cannot be told from a missing one; a placement failure (no server up, a policy
 * rejection) answers `no-X2Go-Server-available` with the profile's SSH port.
 * The target is always the redirect address (`redirectTarget`): an X2Go client connects by SSH
 * itself, whatever the profile's mode. A resumed session comes back as `SESSION_INFO`.
 * The `login` and `pubkey` parameters are ignored: sessions and placement are always the
 * authenticated user's, and there is no broker-mediated key login.
 */
import type { Identity } from "../auth/identity.ts";
import { sessionToResume } from "../balancer/resume-target.ts";
import type { Env } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import type { PoolSession, SelectDecision } from "../pool/select-request.ts";
import type { Profile } from "../profiles/profile-schema.ts";
import { profilesFor, requireProfileAccess } from "../profiles/profiles.ts";
import { placeSession } from "../sessions/placement.ts";
import { queueOrPlace } from "../sessions/wait-line.ts";
import { X2GO_GRACE_MS } from "../pool/wait-line.ts";
import { DEFAULT_REDIRECT_PORT, redirectTarget } from "../sessions/user-sessions.ts";
import { authenticateX2go, bearerAuth } from "./auth.ts";
import type { X2goParams } from "./form.ts";
import { poolListing, resumedSessionLine } from "./pool-reads.ts";
import { type ListedSession, profileKeys, type X2goKeys } from "./profile-keys.ts";
import { log } from "../core/log.ts";

export type Frontend = "plain" | "json";

/** Answered before and without authentication (x2goclient sends it with no credentials). */
export const TESTCON_TASK = "testcon";
/** selectsession's host for an unknown or refused profile (x2gobroker's unknown-profile answer). */
export const NO_SERVER_HOST = "no-server-available";

/**
 * The pseudo-host that tells an X2Go client its place (x2gobroker's way of saying "no server":
 * the client shows the host it could not reach). A DNS-safe label.
 */
export function queuedHost(position: number): string {
  return `all-servers-busy-you-are-number-${position}-in-line`;
}
/** selectsession's host when no server of the profile can take the session. */
export const NO_X2GO_SERVER_HOST = "no-X2Go-Server-available";
/** What the placement chain's `data` says about the request, for policy steps. */
const PLACEMENT_DATA = { client: "x2go" };

export interface ListedProfile {
  id: string;
  keys: X2goKeys;
  /** The user's session to resume on one of the profile's hosts, if any. */
  session?: ListedSession;
}

export interface X2goSelection {
  server: string;
  port: number;
  /** The `x2golistsessions` line of the session the user is sent back to. */
  sessionInfo?: string;
}

export interface X2goOutcome {
  /** The task as understood: JSON renames `listsessions` to `listprofiles`; "" when none was sent. */
  task: string;
  nextAuthid: string;
  /** Set for a listing task, ordered by profile id. */
  profiles?: ListedProfile[];
  /** Set for selectsession; null when no profile id was sent. */
  selection?: X2goSelection | null;
}

type ConnectableSession = PoolSession & { state: "running" | "suspended" };

/** The session a listing marks for `profile`: on one of its hosts, on a server that is not down, not still starting. */
function resumableSession(profile: Profile, sessions: readonly PoolSession[]): ConnectableSession | undefined {
  const hosts = new Set(profile.hosts.map((host) => host.name));
  const eligible = sessions.filter(
    (session): session is ConnectableSession => session.state !== "starting" && session.serverStatus !== "down" && (hosts.size === 0 || hosts.has(session.hostname)),
  );
  const chosen = sessionToResume(eligible, () => true);
  return eligible.find((session) => session === chosen);
}

async function listProfiles(env: Env, identity: Identity, clientIp: string | undefined): Promise<ListedProfile[]> {
  const profiles = await profilesFor(env, identity, clientIp);
  const pools = [...new Set(profiles.map((profile) => profile.pool))];
  const poolWide = new Set(profiles.filter((profile) => profile.hosts.length === 0).map((profile) => profile.pool));
  const listings = new Map(await Promise.all(pools.map(async (pool) => [pool, await poolListing(env, pool, identity.login, poolWide.has(pool))] as const)));
  return profiles
    .toSorted((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((profile) => {
      const listing = listings.get(profile.pool);
      const found = resumableSession(profile, listing?.sessions ?? []);
      const session = found ? { hostname: found.hostname, state: found.state } : undefined;
      const keys = profileKeys(profile, identity.login, session, listing?.serverHost ?? NO_X2GO_SERVER_HOST);
      return { id: profile.id, keys, ...(session ? { session } : {}) };
    });
}

function profilePort(profile: Profile): number {
  const port = profile.x2goOptions["sshport"];
  return typeof port === "number" ? port : DEFAULT_REDIRECT_PORT;
}

async function selectServer(env: Env, identity: Identity, profileId: string, clientIp: string | undefined, nowMs: number): Promise<X2goSelection> {
  let profile: Profile;
  try {
    profile = await requireProfileAccess(env, profileId, identity, clientIp);
  } catch (error) {
    if (error instanceof BrokerError && error.code === "NOT_FOUND") return { server: NO_SERVER_HOST, port: DEFAULT_REDIRECT_PORT };
    throw error;
  }
  let decision: SelectDecision;
  try {
    // X2Go clients cannot wait inside the protocol: the place is kept for a grace time between tries.
    const placed = profile.queue?.enabled ? await queueOrPlace(env, identity, profile, clientIp, PLACEMENT_DATA, null, X2GO_GRACE_MS) : await placeSession(env, identity, profile, clientIp, PLACEMENT_DATA);
    if ("state" in placed) return { server: queuedHost(placed.queued.position), port: profilePort(profile) };
    decision = placed;
  } catch (error) {
    if (!(error instanceof BrokerError)) throw error;
    log.warn(`x2go selectsession ${profile.id} for ${JSON.stringify(identity.login)}: ${error.code}: ${error.message}`);
    return { server: NO_X2GO_SERVER_HOST, port: profilePort(profile) };
  }
  const target = redirectTarget(profile, decision);
  const sessionInfo = decision.resumeSessionId
    ? await resumedSessionLine(env, profile.pool, identity.login, { sessionId: decision.resumeSessionId, serverId: decision.serverId, host: target.host }, nowMs)
    : undefined;
  return { server: target.host, port: target.port, ...(sessionInfo ? { sessionInfo } : {}) };
}

/**
 * Authenticates and runs the request's task. Throws the generic 401 (or 429) `BrokerError` when
 * authentication fails; everything after authentication answers (see the module comment).
 */
export async function runX2goTask(env: Env, frontend: Frontend, params: X2goParams, clientIp: string | undefined, nowMs: number, bearer?: Identity): Promise<X2goOutcome> {
  const { identity, nextAuthid } = bearer ? bearerAuth(bearer) : await authenticateX2go(env, params, clientIp, nowMs);
  const task = frontend === "json" && params.task === "listsessions" ? "listprofiles" : params.task;
  const outcome: X2goOutcome = { task, nextAuthid };
  if (task === (frontend === "json" ? "listprofiles" : "listsessions")) {
    outcome.profiles = await listProfiles(env, identity, clientIp);
  } else if (task === "selectsession") {
    const profileId = frontend === "json" && params.sid === "" ? params.profileId : params.sid;
    outcome.selection = profileId === "" ? null : await selectServer(env, identity, profileId, clientIp, nowMs);
  }
  return outcome;
}
