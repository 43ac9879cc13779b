/**
 * What the bench Workers share with the broker: the compatibility date and flags of
 * wrangler.toml, and an esbuild bundle of a bench-only Worker entry (bench/*-worker.ts) that
 * imports the broker's modules directly.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { unstable_readConfig } from "wrangler";

const root = join(import.meta.dirname, "..");

export type WranglerConfig = ReturnType<typeof unstable_readConfig>;

export function readWranglerConfig(): WranglerConfig {
  return unstable_readConfig({ config: join(root, "wrangler.toml") });
}

/** The broker's compatibility date and flags, for a bench Worker to run under the same ones. */
export function workerCompatibility(config: WranglerConfig = readWranglerConfig()): { compatibilityDate: string; compatibilityFlags: string[] } {
  return { compatibilityDate: config.compatibility_date as string, compatibilityFlags: config.compatibility_flags };
}

/** Bundles `bench/<entry>.ts` for workerd into `.tmp/<entry>/worker.js`; returns that path. */
export async function bundleBenchWorker(entry: string): Promise<string> {
  const outdir = join(root, ".tmp", entry);
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, "worker.js");
  await build({
    entryPoints: [join(root, "bench", `${entry}.ts`)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2023",
    external: ["cloudflare:*", "node:*"],
    logLevel: "error",
  });
  return outfile;
}
