/**
 * Starts the broker on this machine for the tests, the benches and `npm run load`: the Worker
 * bundled as `wrangler deploy` would, served by one workerd through Miniflare's API with
 * wrangler.toml's bindings, D1 and Durable Objects (throw-away, or persisted so a restart keeps
 * state) and the migrations applied. Loopback only.
 *
 * Requests go to a socket of the Worker's own. `wrangler dev` puts its proxy worker and
 * Miniflare's entry worker in front, which adds ~20 ms to the p99 of even `/health` here;
 * production has neither (docs/decisions.md, "Measuring behind `wrangler dev`"). The entry socket stays available as `entryUrl` (what `wrangler dev`
 * serves; the relay bench compares both). Unlike the entry worker, the Worker's own socket adds
 * no `CF-Connecting-IP`, so per-address rate limits do not count these requests unless the
 * caller sends that header (as Cloudflare always does).
 */
import { execFileSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { convertV4MiniflareOptions, type Json, Miniflare } from "miniflare";
import type { BrokerEndpoint } from "./client.ts";
import { freePort } from "./ports.ts";
import { childProcesses } from "./proc.ts";
import { applyMigrations, bundleWorker, wranglerWorkerOptions } from "./worker.ts";

export interface BrokerOptions {
  /** Port of the Worker's own socket on 127.0.0.1. Default: one the OS picks. */
  port?: number;
  /**
   * Keep D1 and Durable Object state in this directory, so a broker started again on it finds it.
   * Default: throw-away state (Miniflare still writes SQLite-backed objects to a temporary
   * directory, fsync included: its in-memory option does not hold them).
   */
  persistTo?: string;
  /** ADMIN_TOKEN. Default: a fresh random one. */
  adminToken?: string;
  /** SIGNING_KEY for broker-signed JWTs (user sessions, relay tickets), ≥ 32 chars; false leaves it unbound. Default: a fresh random one. */
  signingKey?: string | false;
  /** Bind wrangler.toml's `[[ratelimits]]` (else src/core/rate-limit.ts falls back to its in-isolate counters). Default true. */
  rateLimits?: boolean;
  /** DEFAULT_INTERVAL_MS, the heartbeat interval new pools get. Default: wrangler.toml's. */
  defaultIntervalMs?: number;
  /**
   * Another workerd binary to serve the Worker with (default: the one Miniflare depends on).
   * The compatibility date is capped at the newest one that binary supports.
   */
  workerdPath?: string;
  /** The Worker's and workerd's log lines are appended here. Default: printed as Miniflare prints them. */
  logFile?: string;
  /** Further secrets and vars (ACCESS_CLIENT_ID, OIDC_*, …), as `wrangler secret put` would set them. */
  vars?: Record<string, string>;
  /** Serve V8's inspector for the Worker's isolates on this loopback port (benches profile with it). Default: none. */
  inspectorPort?: number;
}

export interface LocalBroker extends BrokerEndpoint {
  /** The Worker on a socket of its own: `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** The same Worker behind Miniflare's entry worker (what `wrangler dev` serves). */
  entryUrl: string;
  /** The SIGNING_KEY it was started with, or null when unbound. */
  signingKey: string | null;
  /** The workerd process serving the Worker, when it could be identified. */
  workerdPid: number | null;
  /** Names of the rate-limit bindings the Worker got. */
  rateLimits: string[];
  stop(): Promise<void>;
}

/** Options for a throw-away broker: a fixed free port and fresh secrets, so a restart with the same options finds its state under `dir`. */
export type ScratchBrokerOptions = BrokerOptions & { port: number; persistTo: string; adminToken: string; signingKey: string; logFile: string };

export async function scratchBrokerOptions(dir: string): Promise<ScratchBrokerOptions> {
  return {
    port: await freePort(),
    persistTo: join(dir, "state"),
    adminToken: `scratch-admin-${crypto.randomUUID()}`,
    signingKey: `scratch-signing-${crypto.randomUUID()}`,
    logFile: join(dir, "broker.log"),
  };
}

/**
 * Points Miniflare at `workerdPath` (if given) until the returned function is called. Miniflare
 * takes the binary only from MINIFLARE_WORKERD_PATH, read when it spawns workerd.
 */
function useWorkerd(workerdPath: string | undefined): () => void {
  if (!workerdPath) return () => {};
  const previous = process.env["MINIFLARE_WORKERD_PATH"];
  process.env["MINIFLARE_WORKERD_PATH"] = workerdPath;
  return () => {
    if (previous === undefined) delete process.env["MINIFLARE_WORKERD_PATH"];
    else process.env["MINIFLARE_WORKERD_PATH"] = previous;
  };
}

/** The newest compatibility date a workerd binary supports (`workerd --version`: "workerd 2026-09-17"). */
function newestCompatibilityDate(workerdPath: string): string {
  const version = execFileSync(workerdPath, ["--version"], { encoding: "utf8" }).trim();
  const date = /\d{4}-\d{2}-\d{2}$/.exec(version)?.[0];
  if (!date) throw new Error(`${workerdPath} --version printed ${JSON.stringify(version)}, not a date`);
  return date;
}

export async function startBroker(options: BrokerOptions = {}): Promise<LocalBroker> {
  const adminToken = options.adminToken ?? `local-admin-${crypto.randomUUID()}`;
  const signingKey = options.signingKey === false ? null : (options.signingKey ?? `local-signing-${crypto.randomUUID()}-${crypto.randomUUID()}`);
  const worker = wranglerWorkerOptions();
  const bindings: Record<string, Json> = { ...worker.bindings, ...options.vars, ADMIN_TOKEN: adminToken };
  if (signingKey !== null) bindings["SIGNING_KEY"] = signingKey;
  if (options.defaultIntervalMs !== undefined) bindings["DEFAULT_INTERVAL_MS"] = String(options.defaultIntervalMs);
  const ratelimits = (options.rateLimits ?? true) ? (worker.ratelimits ?? {}) : {};
  const configDate = worker.compatibilityDate as string;
  const binaryDate = options.workerdPath ? newestCompatibilityDate(options.workerdPath) : configDate;
  const log = options.logFile ? createWriteStream(options.logFile, { flags: "a" }) : null;
  const bundle = bundleWorker();
  const before = new Set(childProcesses(process.pid, "workerd"));
  const restoreWorkerd = useWorkerd(options.workerdPath);
  let mf: Miniflare | null = null;
  const stop = async () => {
    await mf?.dispose();
    bundle.remove();
    await new Promise<void>((resolve) => (log ? log.end(resolve) : resolve()));
  };
  try {
    // Miniflare 5 takes a new options shape; wrangler hands out the v4 one, so convert.
    mf = new Miniflare(
      convertV4MiniflareOptions({
        ...worker,
        modules: true,
        scriptPath: bundle.scriptPath,
        compatibilityDate: binaryDate < configDate ? binaryDate : configDate,
        bindings,
        ratelimits,
        ...(options.persistTo ? { resourcePersistencePath: options.persistTo } : {}),
        ...(log ? { handleStructuredLogs: ({ timestamp, level, message }) => log.write(`${new Date(timestamp).toISOString()} ${level} ${message}\n`) } : {}),
        host: "127.0.0.1",
        port: 0,
        ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
        unsafeDirectSockets: [{ host: "127.0.0.1", port: options.port ?? 0 }],
      }),
    );
    const entryUrl = (await mf.ready).toString().replace(/\/$/, "");
    const url = (await mf.unsafeGetDirectURL("")).toString().replace(/\/$/, "");
    await applyMigrations(await mf.getD1Database("DB"));
    const spawned = childProcesses(process.pid, "workerd").filter((pid) => !before.has(pid));
    return {
      url,
      port: Number(new URL(url).port),
      entryUrl,
      adminToken,
      signingKey,
      workerdPid: spawned.length === 1 ? (spawned[0] as number) : null,
      rateLimits: Object.keys(ratelimits),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    restoreWorkerd();
  }
}
