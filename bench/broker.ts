/**
 * Serves the broker from one workerd through Miniflare's API (no `wrangler dev` proxy in front,
 * see design decision 1), with in-memory D1 and Durable Objects and the migrations applied.
 * Shared by the benches and `npm run load`. Loopback only.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { readWranglerConfig, type WranglerConfig, workerCompatibility } from "./bench-worker.ts";
import { childProcesses } from "./proc.ts";

export interface BenchBroker {
  /**
   * The Worker on a socket of its own. Miniflare's default socket puts a local-only entry
   * worker in front, which adds ~20 ms to the p99 of even `/health` here; production has none.
   */
  url: string;
  /** The same Worker behind Miniflare's entry worker (what `wrangler dev` serves). */
  entryUrl: string;
  adminToken: string;
  /** The workerd process serving the Worker, when it could be identified. */
  workerdPid: number | null;
  /** Names of the rate-limit bindings the Worker got from wrangler.toml (if asked for). */
  rateLimits: string[];
  dispose(): Promise<void>;
}

export interface BenchBrokerOptions {
  /** Bind SIGNING_KEY (user sign-in, relay tickets). Default true. */
  signingKey?: boolean;
  /** Bind wrangler.toml's `[[ratelimits]]`, so a run shows whether the limits bother users. Default false. */
  rateLimits?: boolean;
  /** The pool interval new pools get, ms. Default 10,000. */
  defaultIntervalMs?: number;
  /**
   * Another workerd binary to serve the Worker with (default: the one Miniflare depends on).
   * The compatibility date is capped at the newest one that binary supports.
   */
  workerdPath?: string;
}

const root = join(import.meta.dirname, "..");

/** Bundles the Worker exactly as `wrangler deploy` would, into .tmp/bundle. */
function bundleWorker(): string {
  const outdir = join(root, ".tmp", "bundle");
  execFileSync(join(root, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], { cwd: root, stdio: "ignore" });
  return join(outdir, "index.js");
}

function migrationStatements(): string[] {
  const dir = join(root, "migrations");
  return readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .flatMap((name) => readFileSync(join(dir, name), "utf8").split("--> statement-breakpoint"))
    .map((statement) => statement.replace(/^\s*--.*$/gm, "").trim())
    .filter((statement) => statement.length > 0);
}

/** The `[[ratelimits]]` of wrangler.toml in Miniflare's (v4) option shape. */
function rateLimitOptions(config: WranglerConfig): Record<string, { namespace_id: string; simple: { limit: number; period: 10 | 60 } }> {
  const bindings: Array<{ name: string; namespace_id: string; simple: { limit: number; period: number } }> = config.ratelimits;
  return Object.fromEntries(
    bindings.map((binding) => [binding.name, { namespace_id: binding.namespace_id, simple: { limit: binding.simple.limit, period: binding.simple.period as 10 | 60 } }]),
  );
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

export async function startBenchBroker(options: BenchBrokerOptions = {}): Promise<BenchBroker> {
  const adminToken = `bench-admin-${crypto.randomUUID()}`;
  const bindings: Record<string, string> = { ADMIN_TOKEN: adminToken, DEFAULT_INTERVAL_MS: String(options.defaultIntervalMs ?? 10_000) };
  if (options.signingKey ?? true) bindings["SIGNING_KEY"] = `bench-signing-${crypto.randomUUID()}-${crypto.randomUUID()}`;
  const config = readWranglerConfig();
  const ratelimits = options.rateLimits ? rateLimitOptions(config) : {};
  const before = new Set(childProcesses(process.pid, "workerd"));
  const { compatibilityDate: configDate, compatibilityFlags } = workerCompatibility(config);
  const binaryDate = options.workerdPath ? newestCompatibilityDate(options.workerdPath) : configDate;
  const restoreWorkerd = useWorkerd(options.workerdPath);
  // Miniflare 5 takes a new options shape; the v4 shape is the documented, compact one.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      scriptPath: bundleWorker(),
      compatibilityDate: binaryDate < configDate ? binaryDate : configDate,
      compatibilityFlags,
      d1Databases: { DB: "bench-db" },
      durableObjects: { POOL: { className: "PoolObject", useSQLite: true } },
      ratelimits,
      bindings,
      host: "127.0.0.1",
      port: 0,
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    }),
  );
  try {
    const entryUrl = (await mf.ready).toString().replace(/\/$/, "");
    const url = (await mf.unsafeGetDirectURL("")).toString().replace(/\/$/, "");
    const db = await mf.getD1Database("DB");
    for (const statement of migrationStatements()) await db.prepare(statement).run();
    const spawned = childProcesses(process.pid, "workerd").filter((pid) => !before.has(pid));
    return {
      url,
      entryUrl,
      adminToken,
      workerdPid: spawned.length === 1 ? (spawned[0] as number) : null,
      rateLimits: Object.keys(ratelimits),
      dispose: () => mf.dispose(),
    };
  } catch (error) {
    await mf.dispose();
    throw error;
  } finally {
    restoreWorkerd();
  }
}
