/**
 * `npm run bench -- start-latency` (issue 14 item 7): how long a user waits from `POST
 * /v1/sessions` to their desktop's first frame in the browser, for the `xvnc` launcher and for
 * `slurm` (sbatch to connectable), p50/p99 over a bounded number of starts, with the phases
 * (placement, the launcher run, Xvnc ready, first frame) timed on their own. Root only: the same
 * parts as the e2e suites (test/e2e/launch-cluster.ts): the local broker, a real agent as
 * `edge-agent` with the shipped sudoers rule, real Xvnc, real Slurm, Debian's noVNC in headless
 * Chromium. Loopback only; every wait is bounded and every desktop is ended before the next.
 */
import { existsSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { launchChromium, serveNoVnc } from "../../test/e2e/browser.ts";
import { DESKTOP_COLOURS, type LaunchCluster, SOLID_DESKTOP, startLaunchCluster } from "../../test/e2e/launch-cluster.ts";
import { DESKTOP_GEOMETRY } from "../../test/e2e/launched-desktops.ts";
import { makeWorkDir } from "../../test/e2e/procs.ts";
import { startSingleNodeSlurm } from "../../test/e2e/slurm.ts";
import { adminCall, signIn } from "../../test/harness/client.ts";
import type { BenchSection } from "../lib/sections.ts";
import { measureIsolated } from "./isolated.ts";
import { BENCH_LOGIN, ISOLATED_RUNS, PLACEMENT_LOGIN, SLURM_STARTS, SLURM_TIMEOUT_MS, STATUS_INTERVAL_MS, WARMUP_STARTS, XVNC_STARTS, XVNC_TIMEOUT_MS } from "./parameters.ts";
import { type Measured, startLatencySections } from "./sections.ts";
import { type StartContext, timedPlacement, timedStart } from "./starts.ts";

const SBATCH = "/usr/bin/sbatch";

/** `count` timed runs after `WARMUP_STARTS` untimed; a failed run is counted, not retried. */
async function series<T>(count: number, run: () => Promise<T>, errors: string[]): Promise<T[]> {
  const results: T[] = [];
  for (let index = 0; index < WARMUP_STARTS + count; index++) {
    try {
      const result = await run();
      if (index >= WARMUP_STARTS) results.push(result);
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  return results;
}

async function addPlacementOnly(cluster: LaunchCluster): Promise<string> {
  await adminCall(cluster.broker, "/v1/admin/users", "POST", { login: PLACEMENT_LOGIN, password: `${PLACEMENT_LOGIN}-password-1` });
  await adminCall(cluster.broker, "/v1/admin/profiles", "POST", { id: "bench-placement", name: "placement only", pool: "default", mode: "relay", maxSessionsPerUser: 100 });
  return signIn(cluster.broker, PLACEMENT_LOGIN, `${PLACEMENT_LOGIN}-password-1`);
}

export async function runStartLatencyBench(): Promise<BenchSection[]> {
  if (process.getuid?.() !== 0) throw new Error("start-latency: run as root (it creates a user, installs the agent's sudoers rule and starts Slurm)");
  const dir = makeWorkDir("start-latency-bench");
  const cleanups: Array<() => Promise<void> | void> = [];
  const benchStarted = Date.now();
  try {
    const withSlurm = existsSync(SBATCH);
    if (withSlurm) {
      const slurm = await startSingleNodeSlurm();
      cleanups.push(() => slurm.stop());
    }
    const cluster = await startLaunchCluster({ dir, launchers: { statusIntervalMs: STATUS_INTERVAL_MS } });
    cleanups.push(() => cluster.stop());
    const server = await serveNoVnc();
    cleanups.push(() => server.close());
    const browser = await launchChromium({ logDir: dir });
    cleanups.push(() => browser.close());
    const token = await cluster.addUser(BENCH_LOGIN);
    const params = { session: [SOLID_DESKTOP], geometry: DESKTOP_GEOMETRY, depth: 24 };
    await cluster.addProfile("bench-xvnc", { name: "xvnc", params });
    await cluster.addProfile("bench-slurm", { name: "slurm", params: { ...params, partition: "debug", time: "10:00" } });
    const placementToken = await addPlacementOnly(cluster);

    const errors: string[] = [];
    const loadBefore = loadavg()[0] ?? Number.NaN;
    const base: Omit<StartContext, "profileId" | "timeoutMs"> = { cluster, browser, server, token, login: BENCH_LOGIN, rgb: DESKTOP_COLOURS.other };
    process.stderr.write(`start-latency: ${XVNC_STARTS} xvnc starts …\n`);
    const xvnc = await series(XVNC_STARTS, () => timedStart({ ...base, profileId: "bench-xvnc", timeoutMs: XVNC_TIMEOUT_MS }), errors);
    process.stderr.write(`start-latency: ${withSlurm ? `${SLURM_STARTS} slurm starts` : "no Slurm (sbatch missing)"} …\n`);
    const slurm = withSlurm ? await series(SLURM_STARTS, () => timedStart({ ...base, profileId: "bench-slurm", timeoutMs: SLURM_TIMEOUT_MS }), errors) : [];
    process.stderr.write(`start-latency: the phases alone (${ISOLATED_RUNS} runs each) …\n`);
    const placement = await series(ISOLATED_RUNS, () => timedPlacement(cluster.broker.url, placementToken, "bench-placement"), errors);
    const isolated = await measureIsolated(BENCH_LOGIN);
    const measured: Measured = { xvnc, slurm, withSlurm, placement, isolated, errors, seconds: (Date.now() - benchStarted) / 1000, load: { before: loadBefore, after: loadavg()[0] ?? Number.NaN } };
    if (errors.length > 0) process.stderr.write(`start-latency: ${errors.length} failed run(s); logs kept in ${dir}\n${errors.join("\n")}\n`);
    else cleanups.unshift(() => rmSync(dir, { recursive: true, force: true }));
    return startLatencySections(measured);
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch((error: unknown) => process.stderr.write(`start-latency cleanup: ${String(error)}\n`));
  }
}
