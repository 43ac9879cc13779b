/**
 * The shipped `slurm` launcher against a real single-node Slurm (root only; `npm run
 * test:e2e:setup` installs slurm-wlm and munge; this suite starts munged, slurmctld and slurmd
 * and stops them by pid afterwards): start submits the desktop's batch job as alice and answers
 * queued; the agent asks the launcher's status until the job wrote its endpoint, then the session
 * is running and the gateway bridges to an RFB server; stop cancels the job and its Xvnc ends.
 */
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { connect, mintAssertion, nextMessage } from "../node/agent/gateway/helpers.ts";
import { waitFor } from "../harness/wait.ts";
import { type LaunchNode, startLaunchNode } from "./launch-node.ts";
import { ensureAgentUser, ensureUser, installSudoersRule, requireRoot, spawnAs } from "./node-accounts.ts";
import { jobState, startSingleNodeSlurm } from "./slurm.ts";
import { e2eSuite } from "./suite.ts";

const execFileAsync = promisify(execFile);
const suite = e2eSuite("e2e-launch-slurm");
const SESSION = "ses_slurm_alice";

let node: LaunchNode;

/** The pids of alice's Xvnc processes (the job's desktop). */
async function xvncPidsOf(login: string): Promise<number[]> {
  const { stdout } = await execFileAsync("pgrep", ["-u", login, "-x", "Xvnc"]).catch(() => ({ stdout: "" }));
  return stdout.split("\n").filter(Boolean).map(Number);
}

beforeAll(async () => {
  await suite.guard("Slurm and launcher set-up", async () => {
    requireRoot();
    await ensureUser("alice");
    const agent = await ensureAgentUser();
    suite.defer(await installSudoersRule());
    const slurm = await startSingleNodeSlurm();
    suite.defer(() => slurm.stop());
    const stateDir = join(suite.dir, "state");
    mkdirSync(stateDir, { recursive: true });
    node = await startLaunchNode({ stateDir, logFile: join(suite.dir, "agent.log"), spawn: spawnAs(agent), config: { statusIntervalMs: 250 } });
    suite.defer(() => node.stop());
  });
});

describe("slurm launcher: batch-connect desktops", () => {
  it("answers queued, then runs once the job reports its endpoint, and the gateway reaches its RFB", async () => {
    const submittedAt = Date.now();
    const started = await node.manager.start({
      sessionId: SESSION,
      user: { login: "alice", groups: [], isAdmin: false },
      profile: { id: "hpc-desktop", launcher: "slurm", params: { session: ["/usr/bin/xterm"], geometry: "800x600", partition: "debug", time: "10:00" } },
      data: {},
    });
    expect(started).toMatchObject({ ok: true, value: { state: "queued", sessionId: SESSION, message: expect.stringMatching(/^Waiting for Slurm to start your desktop \(job \d+\)$/) } });
    expect(node.manager.sessions()).toEqual([expect.objectContaining({ id: SESSION, user: "alice", state: "starting" })]);

    await waitFor(() => node.events.some((event) => event.type === "running" && event.sessionId === SESSION), 60_000, "the job's desktop to run", 100);
    console.log(`slurm launcher: connectable ${Date.now() - submittedAt} ms after start (sbatch, scheduling, Xvnc, endpoint file, status poll every 250 ms)`);
    const record = await node.record(SESSION);
    expect(record.endpoint).toMatch(/^tcp:\/\/localhost:\d+$/);
    const jobId = String(record.handle.jobId);
    expect(await jobState(jobId)).toBe("RUNNING");
    expect((await execFileAsync("squeue", ["-h", "-j", jobId, "-o", "%u %j"])).stdout.trim()).toBe(`alice edge-desktop-${SESSION}`);

    const upgrade = await connect(node.url, await mintAssertion({ login: "alice", sessionId: SESSION }), ["binary"]);
    if (!upgrade.ok) throw new Error(`gateway refused: ${upgrade.status} ${upgrade.body}`);
    const greeting = upgrade.received[0] ?? (await nextMessage(upgrade.ws)).data;
    expect(greeting.toString("latin1")).toBe("RFB 003.008\n");
    upgrade.ws.close();
    const refused = await connect(node.url, await mintAssertion({ login: "bob", sessionId: SESSION }));
    expect(refused.ok ? 101 : refused.status).toBe(403);
  });

  it("stop cancels the job, and its desktop ends", async () => {
    const jobId = String((await node.record(SESSION)).handle.jobId);
    expect(await xvncPidsOf("alice")).not.toEqual([]);
    expect(await node.manager.stop(SESSION, "terminated by alice")).toEqual({ ok: true, value: undefined });
    await waitFor(async () => ["CANCELLED", ""].includes(await jobState(jobId)), 15_000, `job ${jobId} to be cancelled`);
    await waitFor(async () => (await xvncPidsOf("alice")).length === 0, 30_000, "the job's Xvnc to end");
    expect(node.manager.sessions()).toEqual([]);
  });
});
