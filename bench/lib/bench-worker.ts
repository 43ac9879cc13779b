/**
 * What the bench Workers share with the broker: the compatibility date and flags of
 * wrangler.toml, and an esbuild bundle of a bench-only Worker entry (bench/<family>/*-worker.ts)
 * that imports the broker's modules directly.
 */
import { basename, join } from "node:path";
import { mkdirSync } from "node:fs";
import { build } from "esbuild";
import { ROOT, wranglerWorkerOptions } from "../../test/harness/worker.ts";

/** The broker's compatibility date and flags, for a bench Worker to run under the same ones. */
export function workerCompatibility(): { compatibilityDate: string; compatibilityFlags: string[] } {
  const { compatibilityDate, compatibilityFlags } = wranglerWorkerOptions();
  return { compatibilityDate: compatibilityDate as string, compatibilityFlags: compatibilityFlags ?? [] };
}

/** Bundles `bench/<entry>.ts` (e.g. "balancing/chain-eval-worker") for workerd into `.tmp/<name>/worker.js`; returns that path. */
export async function bundleBenchWorker(entry: string): Promise<string> {
  const outdir = join(ROOT, ".tmp", basename(entry));
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, "worker.js");
  await build({
    entryPoints: [join(ROOT, "bench", `${entry}.ts`)],
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
