/** Read-only views the pool object answers, derived from its server views (pure). */
import type { NodeStatus } from "../protocol.ts";
import type { PoolSession } from "./select-request.ts";
import type { AdminServerView } from "./server-view.ts";

/** Where the relay reaches a server. */
export interface RelayTarget {
  originUrl: string;
  hostname: string;
  status: NodeStatus;
}

/** Sessions of one user (or of everyone when `login` is null) on the given servers. */
export function sessionsOn(servers: readonly AdminServerView[], login: string | null): PoolSession[] {
  const found: PoolSession[] = [];
  for (const server of servers) {
    for (const session of server.sessions) {
      if (login !== null && session.user !== login) continue;
      found.push({
        id: session.id,
        user: session.user,
        state: session.state,
        startedAt: session.startedAt,
        ...(session.display ? { display: session.display } : {}),
        serverId: server.serverId,
        hostname: server.hostname,
        pool: server.pool,
        serverStatus: server.status,
      });
    }
  }
  return found;
}
