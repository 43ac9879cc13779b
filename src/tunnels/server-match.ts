/**
 * Which server of a profile a tunnel request names (pure). Clients name a server the way they
 * learnt it: its serverId (the API), its enrolled hostname (`ssh node-17`), or the host an X2Go
 * selectsession answered (`SERVER:<host>:<port>`: the profile's host address, the node's client
 * address, or its hostname; see `redirectTarget`). Only servers the profile may use are
 * candidates: those of its pool, within its host list when it has one, and approved.
 */
import type { AdminServerView } from "../pool/server-view.ts";
import type { Profile } from "../profiles/profile-schema.ts";
import { redirectTarget } from "../sessions/user-sessions.ts";
import { err, ok, type Result } from "../core/result.ts";

export type MatchFailure = "none" | "ambiguous";

/** What matching reads of a server. */
export type ServerCandidate = Pick<AdminServerView, "serverId" | "pool" | "hostname" | "status" | "clientAddress">;

function servesProfile(profile: Profile, server: ServerCandidate): boolean {
  if (server.pool !== profile.pool || server.status === "pending") return false;
  return profile.hosts.length === 0 || profile.hosts.some((host) => host.name === server.hostname);
}

/** The one server of `profile` that `name` designates: by id, hostname, then X2Go target host. */
export function matchProfileServer<Server extends ServerCandidate>(profile: Profile, servers: readonly Server[], name: string): Result<Server, MatchFailure> {
  const candidates = servers.filter((server) => servesProfile(profile, server));
  const wanted = name.toLowerCase();
  const byId = candidates.find((server) => server.serverId === name);
  if (byId) return ok(byId);
  const tiers = [
    candidates.filter((server) => server.hostname.toLowerCase() === wanted),
    candidates.filter((server) => redirectTarget(profile, server).host.toLowerCase() === wanted),
  ];
  for (const found of tiers) {
    if (found.length > 1) return err("ambiguous");
    if (found[0]) return ok(found[0]);
  }
  return err("none");
}
