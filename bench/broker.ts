/**
 * Serves the broker from one workerd through Miniflare's API (no `wrangler dev` proxy in front,
 * see design decision 1), with in-memory D1 and Durable Objects and the migrations applied.
 * Loopback only.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

export interface BenchBroker {
  url: string;
  adminToken: string;
  dispose(): Promise<void>;
}

const root = join(import.meta.dirname, "..");

/** Bundles the Worker exactly as `wrangler deploy` would, into .tmp/bundle. */
function bundleWorker(): string {
  const outdir = join(root, ".tmp", "bundle");
  execFileSync(join(root, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
    cwd: root,
    stdio: "ignore",
  });
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

export async function startBenchBroker(): Promise<BenchBroker> {
  const adminToken = `bench-admin-${crypto.randomUUID()}`;
  // Miniflare 5 takes a new options shape; the v4 shape is the documented, compact one.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
    modules: true,
    scriptPath: bundleWorker(),
    compatibilityDate: "2026-11-01",
    compatibilityFlags: ["nodejs_compat"],
    d1Databases: { DB: "bench-db" },
    durableObjects: { POOL: { className: "PoolObject", useSQLite: true } },
    bindings: { ADMIN_TOKEN: adminToken, DEFAULT_INTERVAL_MS: "10000" },
    host: "127.0.0.1",
    port: 0,
    }),
  );
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const db = await mf.getD1Database("DB");
  for (const statement of migrationStatements()) await db.prepare(statement).run();
  return { url, adminToken, dispose: () => mf.dispose() };
}
