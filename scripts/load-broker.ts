/**
 * The broker for `npm run load`: bench/broker.ts's setup (the Worker bundled as `wrangler
 * deploy` would, one workerd through Miniflare's API, in-memory D1 and Durable Objects,
 * migrations applied) plus what the load needs: a SIGNING_KEY (user sign-in, relay tickets),
 * the `[[ratelimits]]` bindings from wrangler.toml (so the run shows the limits never bother
 * ordinary users), and the workerd pid for its CPU time. Loopback only.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_readConfig } from "wrangler";

export interface LoadBroker {
  url: string;
  adminToken: string;
  /** The workerd process serving the Worker, when it could be identified. */
  workerdPid: number | null;
  /** Names of the rate-limit bindings the Worker got from wrangler.toml. */
  rateLimits: string[];
  dispose(): Promise<void>;
}

const root = join(import.meta.dirname, "..");

/** Bundles the Worker exactly as `wrangler deploy` would, into a directory of its own. */
function bundleWorker(): string {
  const outdir = join(root, ".tmp", "bundle-load");
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
function rateLimitOptions(): Record<string, { namespace_id: string; simple: { limit: number; period: 10 | 60 } }> {
  const config = unstable_readConfig({ config: join(root, "wrangler.toml") });
  const bindings: Array<{ name: string; namespace_id: string; simple: { limit: number; period: number } }> = config.ratelimits;
  return Object.fromEntries(
    bindings.map((binding) => [binding.name, { namespace_id: binding.namespace_id, simple: { limit: binding.simple.limit, period: binding.simple.period as 10 | 60 } }]),
  );
}

/** Direct children of this process named `workerd` (Linux /proc; empty elsewhere). */
function workerdChildren(): number[] {
  try {
    return readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
          return Number(fields[1]) === process.pid && stat.includes("(workerd)");
        } catch {
          return false;
        }
      })
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU time (user + system) a process has used so far, in ms; null when unreadable. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

export async function startLoadBroker(options: { intervalMs: number }): Promise<LoadBroker> {
  const adminToken = `load-admin-${crypto.randomUUID()}`;
  const signingKey = `load-signing-${crypto.randomUUID()}-${crypto.randomUUID()}`;
  const ratelimits = rateLimitOptions();
  const before = new Set(workerdChildren());
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      scriptPath: bundleWorker(),
      compatibilityDate: "2026-11-01",
      compatibilityFlags: ["nodejs_compat"],
      d1Databases: { DB: "load-db" },
      durableObjects: { POOL: { className: "PoolObject", useSQLite: true } },
      ratelimits,
      bindings: { ADMIN_TOKEN: adminToken, SIGNING_KEY: signingKey, DEFAULT_INTERVAL_MS: String(options.intervalMs) },
      host: "127.0.0.1",
      port: 0,
    }),
  );
  try {
    const url = (await mf.ready).toString().replace(/\/$/, "");
    const db = await mf.getD1Database("DB");
    for (const statement of migrationStatements()) await db.prepare(statement).run();
    const spawned = workerdChildren().filter((pid) => !before.has(pid));
    return { url, adminToken, workerdPid: spawned.length === 1 ? (spawned[0] as number) : null, rateLimits: Object.keys(ratelimits), dispose: () => mf.dispose() };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}
