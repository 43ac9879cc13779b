/**
 * The checks: every session placed is accounted for (seen in the user's list on the server it was
 * placed on, or still on that server at the end; no reservation left unconfirmed; every logged
 * start decision matches a start a client was told about) and every node is `up` (and was at
 * every poll during the run).
 */
import { sleep } from "./async.ts";
import type { Start } from "./clients.ts";
import type { BrokerHttp } from "./http.ts";
import { POLL_EVERY_MS, POOL } from "./options.ts";

interface ServerState {
  serverId: string;
  hostname: string;
  status: string;
  pendingSessions: number;
  sessions: Array<{ id: string; user: string }>;
}

interface Decision {
  action: string;
  user: string;
  ok: boolean;
  serverId: string | null;
  resumeSessionId: string | null;
}

/** What the polls during the run saw. */
export interface NodePolls {
  downDuringRun: number;
  polls: number;
}

export interface Checks extends NodePolls {
  lostSessions: string[];
  pendingReservations: number;
  unmatchedDecisions: number;
  decisionsChecked: number;
  notUpAtEnd: string[];
}

async function listServers(http: BrokerHttp): Promise<ServerState[]> {
  return (await http.admin<{ servers: ServerState[] }>("GET", `/v1/admin/pools/${POOL}/servers`)).servers;
}

/** Polls the node list every POLL_EVERY_MS until `deadline`, counting the nodes not `up`. */
export async function pollNodes(http: BrokerHttp, deadline: number): Promise<NodePolls> {
  let downDuringRun = 0;
  let polls = 0;
  while (Date.now() + POLL_EVERY_MS < deadline) {
    await sleep(POLL_EVERY_MS);
    const servers = await listServers(http);
    polls += 1;
    downDuringRun += servers.filter((server) => server.status !== "up").length;
  }
  return { downDuringRun, polls };
}

export async function finalChecks(http: BrokerHttp, starts: readonly Start[], agents: number, { downDuringRun, polls }: NodePolls): Promise<Checks> {
  const servers = await listServers(http);
  const byId = new Map(servers.map((server) => [server.serverId, server]));
  const lostSessions: string[] = [];
  for (const start of starts) {
    const server = byId.get(start.serverId);
    const present = server?.sessions.some((session) => session.id === start.sessionId && session.user === start.user) ?? false;
    // Logged off: it must have been seen during the run. Still active: it must be there now.
    const accounted = start.loggedOff ? start.seen : present || start.seen;
    if (!accounted) lostSessions.push(`${start.user} ${start.sessionId} on ${start.serverId}`);
  }
  const pendingReservations = servers.reduce((sum, server) => sum + server.pendingSessions, 0);
  // The decision log keeps the latest 200: each placed start in it must be one a client got.
  const decisions = (await http.admin<{ decisions: Decision[] }>("GET", `/v1/admin/pools/${POOL}/decisions?limit=200`)).decisions;
  const told = new Map<string, number>();
  for (const start of starts) told.set(`${start.user} ${start.serverId}`, (told.get(`${start.user} ${start.serverId}`) ?? 0) + 1);
  let unmatchedDecisions = 0;
  let decisionsChecked = 0;
  for (const decision of decisions) {
    if (decision.action !== "session/start" || !decision.ok) continue;
    decisionsChecked += 1;
    const key = `${decision.user} ${decision.serverId}`;
    const left = told.get(key) ?? 0;
    if (left === 0) unmatchedDecisions += 1;
    else told.set(key, left - 1);
  }
  const notUpAtEnd = servers.filter((server) => server.status !== "up").map((server) => server.hostname);
  if (servers.length !== agents) notUpAtEnd.push(`${agents - servers.length} node(s) missing`);
  return { lostSessions, pendingReservations, unmatchedDecisions, decisionsChecked, notUpAtEnd, downDuringRun, polls };
}
