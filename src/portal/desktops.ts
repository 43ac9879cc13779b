/**
 * What the portal shows a user: the profiles they may use and their sessions across the
 * cluster, shaped once for the page and for its live updates (`GET /portal/api/state`). Only
 * relay profiles open in the browser; a session is offered for resuming through its own profile
 * when the node names it, else the first relay profile of the user that reaches its server.
 */
import type { Identity } from "../auth/identity.ts";
import type { Env } from "../env.ts";
import type { PoolSession } from "../pool/select-request.ts";
import { profilesFor } from "../profiles/profiles.ts";
import type { Profile } from "../profiles/profile-schema.ts";
import { listSessions } from "../sessions/user-sessions.ts";
import { timeAgo } from "../ui/format.ts";

export interface PortalProfile {
  id: string;
  name: string;
  pool: string;
  /** Relay profiles open in the browser; redirect ones need a native client. */
  inBrowser: boolean;
}

export interface PortalSessionRow {
  id: string;
  /** `running`, `suspended`, `starting` (queued by a scheduler), or what the node reports. */
  state: string;
  hostname: string;
  serverId: string;
  pool: string;
  startedAt: number;
  /** "12 min ago" at `now`. */
  age: string;
  serverUp: boolean;
  /** The node's or scheduler's word on it ("queued: job 12 pending"), if any. */
  message: string | null;
  /** The profile to open it with in the browser, or null when none of the user's relay profiles reaches it. */
  profileId: string | null;
}

export interface PortalState {
  now: number;
  profiles: PortalProfile[];
  sessions: PortalSessionRow[];
}

/** A session as listed, with the fields nodes running launchers add (issue 14). */
type ListedSession = PoolSession & { state: string; message?: string; profileId?: string };

function reaches(profile: Profile, session: ListedSession): boolean {
  return profile.mode === "relay" && profile.pool === session.pool && (profile.hosts.length === 0 || profile.hosts.some((host) => host.name === session.hostname));
}

/** The profile a session opens with: its own when the user may still use it, else the first that reaches it. */
export function resumeProfile(profiles: readonly Profile[], session: ListedSession): Profile | null {
  const own = session.profileId === undefined ? undefined : profiles.find((profile) => profile.id === session.profileId);
  if (own) return reaches(own, session) ? own : null;
  return profiles.find((profile) => reaches(profile, session)) ?? null;
}

/** The user's profiles (ACLs applied, as for `GET /v1/profiles`). */
export function portalProfiles(env: Env, identity: Identity, clientIp: string | undefined): Promise<Profile[]> {
  return profilesFor(env, identity, clientIp);
}

/** Everything the home page shows, at `nowMs`. */
export async function portalState(env: Env, identity: Identity, clientIp: string | undefined, nowMs = Date.now()): Promise<PortalState> {
  const [profiles, sessions] = await Promise.all([portalProfiles(env, identity, clientIp), listSessions(env, identity.login)]);
  return {
    now: nowMs,
    profiles: profiles.map((profile) => ({ id: profile.id, name: profile.name, pool: profile.pool, inBrowser: profile.mode === "relay" })),
    sessions: (sessions as ListedSession[]).map((session) => ({
      id: session.id,
      state: session.state,
      hostname: session.hostname,
      serverId: session.serverId,
      pool: session.pool,
      startedAt: session.startedAt,
      age: timeAgo(session.startedAt, nowMs),
      serverUp: session.serverStatus !== "down",
      message: session.message ?? null,
      profileId: resumeProfile(profiles, session)?.id ?? null,
    })),
  };
}
