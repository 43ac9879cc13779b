/** Read-only views the pool object answers, derived from what it stores (pure). */
import { checkOrigin, type OriginRules } from "../cluster/origin-policy.ts";
import type { NodeStatus } from "../protocol.ts";
import type { StoredNode } from "./node-store.ts";
import type { PoolSession } from "./select-request.ts";
import { type AdminServerView, nodeStatus } from "./server-view.ts";

/** Where the relay reaches a server, and whether it may (decision 6: origins outside the pool's rules are never called). */
export interface RelayTarget {
  originUrl: string;
  originAllowed: boolean;
  hostname: string;
  status: NodeStatus;
  /** Salt of the node's assertion key, to sign `X-Broker-Assertion` for it. */
  assertionSalt: string;
}

export function relayTargetOf(node: StoredNode, rules: OriginRules): RelayTarget {
  return {
    originUrl: node.originUrl,
    originAllowed: checkOrigin(node.originUrl, rules).ok,
    hostname: node.hostname,
    status: nodeStatus(node),
    assertionSalt: node.assertionSalt,
  };
}

/**
 * Sessions of one user (or of everyone when `login` is null) on the given servers. Servers
 * waiting for approval are left out: what an unapproved node reports is never offered to anyone.
 */
export function sessionsOn(servers: readonly AdminServerView[], login: string | null): PoolSession[] {
  const found: PoolSession[] = [];
  for (const server of servers) {
    if (server.status === "pending") continue;
    for (const session of server.sessions) {
      if (login !== null && session.user !== login) continue;
      found.push({
        id: session.id,
        user: session.user,
        state: session.state,
        startedAt: session.startedAt,
        ...(session.display ? { display: session.display } : {}),
        ...(session.profileId ? { profileId: session.profileId } : {}),
        ...(session.message ? { message: session.message } : {}),
        serverId: server.serverId,
        hostname: server.hostname,
        pool: server.pool,
        serverStatus: server.status,
      });
    }
  }
  return found;
}
