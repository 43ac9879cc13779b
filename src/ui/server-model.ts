/**
 * The servers page's model: every pool with its servers as display rows (formatted once, here,
 * for both the server-rendered page and the JSON the client script polls), sorted on the server.
 */
import { z } from "zod";
import { listPools } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { poolStub } from "../pool/pool-gateway.ts";
import type { AdminServerView } from "../pool/server-view.ts";
import type { NodeStatus } from "../protocol.ts";
import { factsText, gib, listText, timeAgo } from "./format.ts";

export const SORT_KEYS = ["hostname", "status", "channel", "lastSeen", "load", "memory", "cpus", "sessions", "users"] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export const sortQuerySchema = z.object({
  sort: z.enum(SORT_KEYS).default("hostname"),
  dir: z.enum(["asc", "desc"]).default("asc"),
});
export type SortQuery = z.infer<typeof sortQuerySchema>;

/** The text of each column, by the `data-field` name the page and the script share. */
export interface ServerCells {
  hostname: string;
  serverId: string;
  status: string;
  /** Whether the node's control channel is open (commands such as disconnect reach it). */
  channel: string;
  lastSeen: string;
  load: string;
  memory: string;
  cpus: string;
  sessions: string;
  users: string;
  staticData: string;
  toggleLabel: string;
}

/** One server as a table row. */
export interface ServerRow {
  serverId: string;
  hostname: string;
  pool: string;
  status: NodeStatus;
  cells: ServerCells;
  /** Where the drain / undrain form posts. */
  toggleAction: string;
  removeAction: string;
}

export interface PoolServers {
  name: string;
  intervalMs: number;
  servers: ServerRow[];
}

/** A server as the pool object's `listServers` answers over RPC (the tuple arrives as an array). */
export type ServerViewData = Omit<AdminServerView, "loadAvg"> & { loadAvg: readonly number[] };

const STATUS_ORDER: Record<NodeStatus, number> = { pending: 0, up: 1, draining: 2, down: 3 };

function sortValue(view: ServerViewData, key: SortKey): number | string {
  switch (key) {
    case "hostname":
      return view.hostname;
    case "status":
      return STATUS_ORDER[view.status];
    case "channel":
      return view.channelConnected ? 0 : 1;
    case "lastSeen":
      return view.lastSeenAt ?? 0;
    case "load":
      return view.loadAvg[0] ?? 0;
    case "memory":
      return view.memTotalBytes - view.memAvailableBytes;
    case "cpus":
      return view.cpuCount;
    case "sessions":
      return view.sessionCount;
    case "users":
      return view.users.length;
  }
}

/** Sorts by `key` (ties by hostname), ascending or descending. */
export function sortServers<T extends ServerViewData>(views: readonly T[], { sort, dir }: SortQuery): T[] {
  const sign = dir === "asc" ? 1 : -1;
  return [...views].sort((a, b) => {
    const x = sortValue(a, sort);
    const y = sortValue(b, sort);
    const order = typeof x === "string" || typeof y === "string" ? String(x).localeCompare(String(y)) : x - y;
    return order !== 0 ? sign * order : a.hostname.localeCompare(b.hostname);
  });
}

export function serverPath(pool: string, serverId: string): string {
  return `/admin/servers/${encodeURIComponent(pool)}/${encodeURIComponent(serverId)}`;
}

/** The status, and what keeps a server from users: waiting for approval, an origin the pool's rules refuse. */
function statusText(view: ServerViewData): string {
  const status = view.status === "pending" ? "pending approval" : view.status;
  return view.originAllowed ? status : `${status} (origin refused)`;
}

/** Formats one server for display at `nowMs`. */
export function serverRow(view: ServerViewData, nowMs: number): ServerRow {
  const used = view.memTotalBytes - view.memAvailableBytes;
  const path = serverPath(view.pool, view.serverId);
  return {
    serverId: view.serverId,
    hostname: view.hostname,
    pool: view.pool,
    status: view.status,
    cells: {
      hostname: view.hostname,
      serverId: view.serverId,
      status: statusText(view),
      channel: view.channelConnected ? "connected" : "not connected",
      lastSeen: timeAgo(view.lastSeenAt, nowMs),
      load: view.loadAvg.map((value) => value.toFixed(2)).join(" / "),
      memory: view.memTotalBytes > 0 ? `${gib(used)} / ${gib(view.memTotalBytes)} GiB` : "—",
      cpus: String(view.cpuCount),
      sessions: view.pendingSessions > 0 ? `${view.sessionCount} (${view.pendingSessions} pending)` : String(view.sessionCount),
      users: listText(view.users),
      staticData: factsText(view.staticData),
      toggleLabel: view.status === "pending" ? "Approve" : view.draining ? "Undrain" : "Drain",
    },
    toggleAction: `${path}/${view.status === "pending" ? "approve" : view.draining ? "undrain" : "drain"}`,
    removeAction: `${path}/remove`,
  };
}

/** Every pool (by name) with its servers, from the pool objects' `listServers`. */
export async function poolServers(env: Env, sort: SortQuery, nowMs = Date.now()): Promise<PoolServers[]> {
  const pools = await listPools(env.DB);
  const views = await Promise.all(pools.map((pool) => poolStub(env, pool.name).listServers()));
  return pools.map((pool, index) => ({
    name: pool.name,
    intervalMs: pool.intervalMs,
    servers: sortServers(views[index] ?? [], sort).map((view) => serverRow(view, nowMs)),
  }));
}
