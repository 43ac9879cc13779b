/**
 * The broker under `wrangler dev` for `npm start`, the one place it runs behind wrangler's dev
 * server: kept for its live reload (edit src/ and the running broker picks it up). The tests,
 * the benches and `npm run load` start it with test/harness/broker.ts instead (one workerd, no
 * proxy in front); everything else `npm start` does goes through that harness too. Loopback only.
 */
import { execFile, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { BrokerEndpoint } from "../test/harness/client.ts";
import { stopChild } from "../test/harness/proc.ts";
import { waitFor } from "../test/harness/wait.ts";
import { BIN, ROOT, wranglerEnv } from "../test/harness/worker.ts";

const execFileAsync = promisify(execFile);

export interface WranglerDevOptions {
  port: number;
  /** Where wrangler keeps local D1 and Durable Object state (kept between runs). */
  persistTo: string;
  adminToken: string;
  /** SIGNING_KEY for broker-signed JWTs (user sessions, relay tickets), ≥ 32 chars. */
  signingKey: string;
  /** wrangler's output goes here. */
  logFile: string;
}

export interface WranglerDevBroker extends BrokerEndpoint {
  stop(): Promise<void>;
}

/** Applies the local D1 migrations, starts `wrangler dev` and waits until `/health` answers. */
export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDevBroker> {
  const env = wranglerEnv();
  await execFileAsync(join(BIN, "wrangler"), ["d1", "migrations", "apply", "DB", "--local", "--persist-to", options.persistTo], { cwd: ROOT, env: { ...env, CI: "true" } });
  const log = openSync(options.logFile, "a");
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(options.port), "--persist-to", options.persistTo];
  args.push("--var", `ADMIN_TOKEN:${options.adminToken}`, "--var", `SIGNING_KEY:${options.signingKey}`);
  args.push("--show-interactive-dev-session=false", "--log-level", "warn");
  // Its own process group: wrangler starts workerd as a child, and stop() signals them together.
  const child = spawn(join(BIN, "wrangler"), args, { cwd: ROOT, env, stdio: ["ignore", log, log], detached: true });
  closeSync(log);
  const url = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    await stopChild(child, 5000, null);
  };
  try {
    await waitFor(async () => (await fetch(`${url}/health`)).ok, 90_000, `wrangler dev on ${url} (log: ${options.logFile})`, 200);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, adminToken: options.adminToken, stop };
}
