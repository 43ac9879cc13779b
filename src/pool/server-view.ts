/** Shapes a stored node into the view the balancer and the admin API read (pure). */
import type { ServerView } from "../balancer/types.ts";
import { checkOrigin, type OriginRules } from "../cluster/origin-policy.ts";
import type { NodeSession, NodeStatus } from "../protocol.ts";
import type { StoredNode } from "./node-store.ts";

/** The admin's view: the balancer's, plus how the broker reaches the node. */
export interface AdminServerView extends ServerView {
  originUrl: string;
  /** Whether the origin passes the pool's origin rules now (the relay refuses it otherwise). */
  originAllowed: boolean;
  enrolledAt: number;
  /** Whether the node's control channel is open and kept alive now (commands reach it). */
  channelConnected: boolean;
}

/** A node waiting for approval is `pending` whatever its heartbeats say: it takes no placements. */
export function nodeStatus(node: Pick<StoredNode, "status" | "draining" | "approved">): NodeStatus {
  if (!node.approved) return "pending";
  if (node.status === "down") return "down";
  return node.draining ? "draining" : "up";
}

/** `launched`: sessions the node launched that its last beat does not list yet (launches.ts). */
export function toServerView(node: StoredNode, pool: string, pendingSessions: number, rules: OriginRules, channelConnected: boolean, launched: readonly NodeSession[] = []): AdminServerView {
  const live = node.live;
  const reported = live?.sessions ?? [];
  const sessions = launched.length === 0 ? reported : [...reported, ...launched.filter((session) => !reported.some((known) => known.id === session.id))];
  return {
    serverId: node.serverId,
    pool,
    hostname: node.hostname,
    status: nodeStatus(node),
    draining: node.draining,
    lastSeenAt: node.lastSeenAt,
    loadAvg: live?.loadAvg ?? [0, 0, 0],
    cpuCount: live?.cpuCount ?? 0,
    cpuMhz: live?.cpuMhz ?? 0,
    memTotalBytes: live?.memTotalBytes ?? 0,
    memAvailableBytes: live?.memAvailableBytes ?? 0,
    sessions,
    sessionCount: sessions.length + pendingSessions,
    pendingSessions,
    users: live?.users ?? [],
    staticData: { ...(live?.staticData ?? {}), ...node.staticOverrides },
    metrics: live?.metrics ?? {},
    clientAddress: node.clientAddress,
    originUrl: node.originUrl,
    originAllowed: checkOrigin(node.originUrl, rules).ok,
    enrolledAt: node.enrolledAt,
    channelConnected,
  };
}

/**
 * The admin API's copy of a server view: without the X cookies of X2Go sessions. A cookie lets
 * whoever reaches the node's forwarded ports attach to the display; only the session's own user
 * gets it, in the X2Go answers' SESSION_INFO (src/x2go/session-line.ts).
 */
export function withoutDisplayCookies<View extends { sessions: NodeSession[] }>(view: View): View {
  if (!view.sessions.some((session) => session.x2go?.cookie !== undefined)) return view;
  const sessions = view.sessions.map((session) => {
    if (session.x2go?.cookie === undefined) return session;
    const { cookie: _cookie, ...x2go } = session.x2go;
    return { ...session, x2go };
  });
  return { ...view, sessions };
}
