/**
 * What a local broker is made of, all taken from the project itself: the Worker bundled exactly
 * as `wrangler deploy` bundles it, the bindings `wrangler dev` would give it (from wrangler.toml,
 * through wrangler's own conversion to Miniflare options), and the D1 migrations applied the way
 * `wrangler d1 migrations apply` does (split by wrangler, recorded in `d1_migrations`, so a
 * broker restarted on persisted state applies only new ones).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Miniflare, V4WorkerOptionsShape } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";

export const ROOT = join(import.meta.dirname, "..", "..");
/** node_modules/.bin: wrangler and Node 22 (the `node` devDependency) for child processes. */
export const BIN = join(ROOT, "node_modules", ".bin");
const MIGRATIONS_DIR = join(ROOT, "migrations");
const MIGRATIONS_TABLE = "d1_migrations";

/** The environment for wrangler: node_modules/.bin first (wrangler needs Node ≥ 22.12), no metrics. */
export function wranglerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${BIN}:${process.env["PATH"] ?? ""}`, WRANGLER_SEND_METRICS: "false" };
}

export interface WorkerBundle {
  scriptPath: string;
  remove(): void;
}

/** Bundles the Worker as `wrangler deploy` would, into a fresh directory under .tmp/. */
export function bundleWorker(): WorkerBundle {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const outdir = mkdtempSync(join(ROOT, ".tmp", "broker-bundle-"));
  try {
    execFileSync(join(BIN, "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], { cwd: ROOT, env: wranglerEnv(), stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString("utf8") ?? "";
    throw new Error(`wrangler deploy --dry-run failed: ${stderr.slice(-2000)}`);
  }
  return { scriptPath: join(outdir, "index.js"), remove: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** The Worker's bindings and compatibility settings from wrangler.toml, as `wrangler dev` passes them to Miniflare. */
export function wranglerWorkerOptions(): V4WorkerOptionsShape {
  // wrangler types these as an Omit<> of Miniflare's shape, which its index signature turns into
  // `unknown`s. Its module rules are for unbundled sources; the bundle is one ES module.
  const { modulesRules, ...options } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml")).workerOptions;
  return options as V4WorkerOptionsShape;
}

/** Applies every migration in migrations/ not yet recorded in `d1_migrations`, in name order. */
export async function applyMigrations(db: Awaited<ReturnType<Miniflare["getD1Database"]>>): Promise<void> {
  await db
    .prepare(`CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}"(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`)
    .run();
  const applied = new Set((await db.prepare(`SELECT name FROM "${MIGRATIONS_TABLE}"`).all<{ name: string }>()).results.map((row) => row.name));
  const names = readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith(".sql")).sort();
  for (const name of names) {
    if (applied.has(name)) continue;
    for (const statement of unstable_splitSqlQuery(readFileSync(join(MIGRATIONS_DIR, name), "utf8"))) await db.prepare(statement).run();
    await db.prepare(`INSERT INTO "${MIGRATIONS_TABLE}" (name) VALUES (?)`).bind(name).run();
  }
}
