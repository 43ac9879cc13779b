/**
 * Per-file plumbing for the e2e suites: a temp dir for logs and state, teardown steps run in
 * reverse order in afterAll (each one even if an earlier one fails), log tails printed when a
 * test or the setup fails (the dir is then kept), and whole-image checks with ImageMagick.
 */
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeEach } from "vitest";
import { logTails, makeWorkDir } from "./procs.ts";

const execFileAsync = promisify(execFile);

export const REPO_ROOT = join(import.meta.dirname, "..", "..");
/** Artefacts kept after the run (gitignored). */
export const RESULTS_DIR = join(REPO_ROOT, "test-results", "e2e");

export interface E2eSuite {
  /** This file's temp dir: every log goes here. */
  dir: string;
  /** Registers a teardown step; afterAll runs them last-registered first. */
  defer(step: () => Promise<void> | void): void;
  /** Runs setup; on failure prints the log tails (and keeps the dir) before rethrowing. */
  guard<T>(what: string, setup: () => Promise<T>): Promise<T>;
  /** Prints the log tails now (e.g. before an assertion that is about to fail). */
  printLogs(reason: string): void;
}

export function e2eSuite(prefix: string): E2eSuite {
  const dir = makeWorkDir(prefix);
  const steps: Array<() => Promise<void> | void> = [];
  let failed = false;
  let printed = false;
  const failedTests: string[] = [];
  const printLogs = (reason: string) => {
    failed = true;
    printed = true;
    console.error(`\n===== ${reason}: logs in ${dir} =====\n${logTails(dir, 40)}\n===== end of logs =====`);
  };

  beforeEach((context) => {
    context.onTestFailed(() => {
      failed = true;
      failedTests.push(context.task.name);
    });
  });

  afterAll(async () => {
    // Once, before teardown, so the tails show the state the failures saw.
    if (failedTests.length > 0 && !printed) printLogs(`${failedTests.length} test(s) failed (${failedTests.join("; ")})`);
    const errors: unknown[] = [];
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (failed || errors.length > 0) console.error(`e2e logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    if (errors.length > 0) throw new AggregateError(errors, "teardown failed");
  });

  return {
    dir,
    defer: (step) => void steps.push(step),
    async guard(what, setup) {
      try {
        return await setup();
      } catch (error) {
        printLogs(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
        throw error;
      }
    },
    printLogs,
  };
}

/**
 * How many pixels of two images of the same size differ (ImageMagick `compare -metric AE`,
 * `fuzz` as a percentage of the colour range; 0 means identical).
 */
export async function differingPixels(a: string, b: string, fuzzPercent = 1): Promise<number> {
  const result = await execFileAsync("compare", ["-metric", "AE", "-fuzz", `${fuzzPercent}%`, a, b, "null:"], { timeout: 20_000 }).catch(
    // exit status 1 means "images differ": the count is still on stderr.
    (error: { code?: number; stderr?: string }) => {
      if (error.code === 1 && error.stderr) return { stdout: "", stderr: error.stderr };
      throw error;
    },
  );
  const count = Number.parseFloat(result.stderr.trim());
  if (!Number.isFinite(count)) throw new Error(`compare printed ${JSON.stringify(result.stderr)}`);
  return count;
}
