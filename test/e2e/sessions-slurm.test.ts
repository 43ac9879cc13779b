/**
 * Batch-connect sessions end to end with the `slurm` launcher (issue 14 item 6; root only, needs
 * `npm run test:e2e:setup`; this suite starts munged, slurmctld and slurmd unless running and
 * stops the ones it started by pid): the local broker, a real agent process as `edge-agent`, a
 * real single-node Slurm. carol's start answers 202 `starting` with the launcher's queued
 * message; once the job runs and the node reports it, `GET /v1/sessions` lists it running and a
 * resume gives her desktop (her colour in Chromium's noVNC, through relay → node gateway → the
 * job's Xvnc); `DELETE /v1/sessions/:id` cancels the job (squeue no longer shows it running), its
 * Xvnc ends and the live connection closes with the reason. Nothing is mocked.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { call, callOk } from "../harness/client.ts";
import { waitFor } from "../harness/wait.ts";
import { type Chromium, launchChromium, type NoVncServer, noVncStatus, saveScreenshot, serveNoVnc, waitForPicture } from "./browser.ts";
import { DESKTOP_COLOURS, type LaunchCluster, SOLID_DESKTOP, startLaunchCluster } from "./launch-cluster.ts";
import { DESKTOP_GEOMETRY, listMySessions, openRelayed, type SessionAnswer, solidPicture } from "./launched-desktops.ts";
import { jobState, startSingleNodeSlurm } from "./slurm.ts";
import { e2eSuite, RESULTS_DIR } from "./suite.ts";

const execFileAsync = promisify(execFile);
const suite = e2eSuite("e2e-sessions-slurm");
const PROFILE = "hpc-desk";
const LOGIN = "carol";
/** How often the agent asks the launcher about a queued job (the default is 3 s; the e2e wants it quick). */
const STATUS_INTERVAL_MS = 250;

let cluster: LaunchCluster;
let server: NoVncServer;
let browser: Chromium;
let token = "";
let sessionId = "";
let jobId = "";

/** The pids of the user's Xvnc processes (the job's desktop runs as them). */
async function xvncPidsOf(login: string): Promise<number[]> {
  const { stdout } = await execFileAsync("pgrep", ["-u", login, "-x", "Xvnc"]).catch(() => ({ stdout: "" }));
  return stdout.split("\n").filter(Boolean).map(Number);
}

beforeAll(() =>
  suite.guard("setup", async () => {
    const slurm = await startSingleNodeSlurm();
    suite.defer(() => slurm.stop());
    cluster = await startLaunchCluster({ dir: suite.dir, launchers: { statusIntervalMs: STATUS_INTERVAL_MS } });
    suite.defer(() => cluster.stop());
    // A job this suite submitted and did not see cancelled is cancelled by its id.
    suite.defer(async () => {
      if (jobId && !["", "CANCELLED", "COMPLETED", "FAILED"].includes(await jobState(jobId))) await execFileAsync("scancel", [jobId]);
    });
    server = await serveNoVnc();
    suite.defer(() => server.close());
    browser = await launchChromium({ logDir: suite.dir });
    suite.defer(() => browser.close());
    token = await cluster.addUser(LOGIN);
    await cluster.addProfile(PROFILE, { name: "slurm", params: { session: [SOLID_DESKTOP], geometry: DESKTOP_GEOMETRY, partition: "debug", time: "10:00" } });
  }),
);

describe("slurm sessions through the broker: queued, then the desktop, then cancelled", () => {
  it("answers 202 starting with the queued message, then lists the session running once the job reports its desktop", async () => {
    const submittedAt = Date.now();
    const answer = await call<SessionAnswer>(cluster.broker.url, "/v1/sessions", { token, body: { profileId: PROFILE } });
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body).toMatchObject({ state: "starting", resumed: false, serverId: cluster.agent.serverId, message: expect.stringMatching(/^Waiting for Slurm to start your desktop \(job \d+\)$/) });
    expect(answer.body.relay).toBeUndefined();
    sessionId = answer.body.sessionId;
    jobId = /job (\d+)/.exec(answer.body.message ?? "")?.[1] ?? "";
    expect((await execFileAsync("squeue", ["-h", "-j", jobId, "-o", "%u %j"])).stdout.trim()).toBe(`${LOGIN} edge-desktop-${sessionId}`);
    const listed = (await listMySessions(cluster.broker.url, token)).find((session) => session.id === sessionId);
    expect(listed).toMatchObject({ state: "starting", message: expect.stringContaining(`job ${jobId}`) });
    // Resuming a starting session answers starting again, with no relay.
    const early = await callOk<SessionAnswer>(cluster.broker.url, `/v1/sessions/${sessionId}/resume`, { token, body: { profileId: PROFILE } }, [200, 202]);
    if (early.state === "starting") expect(early.relay).toBeUndefined();

    await waitFor(async () => (await listMySessions(cluster.broker.url, token)).some((session) => session.id === sessionId && session.state !== "starting"), 60_000, "the job's desktop to be reported", 50);
    console.log(`slurm session: 202 → listed connectable ${Date.now() - submittedAt} ms after POST /v1/sessions (launcher status every ${STATUS_INTERVAL_MS} ms)`);
    expect(await jobState(jobId)).toBe("RUNNING");
  });

  it("resumes into carol's desktop in Chromium's noVNC through relay → node gateway → the job's Xvnc", async () => {
    const answer = await callOk<SessionAnswer>(cluster.broker.url, `/v1/sessions/${sessionId}/resume`, { token, body: { profileId: PROFILE } }, [200]);
    expect(answer).toMatchObject({ sessionId, state: "running", resumed: true });
    const { page, status } = await openRelayed(browser, server, answer, "carol-slurm");
    expect(status.state, JSON.stringify(status)).toBe("connected");
    const check = await waitForPicture(page, solidPicture(DESKTOP_COLOURS.other), { timeoutMs: 20_000 });
    expect(check.mismatches, "carol's desktop colour").toEqual([]);
    await saveScreenshot(page, join(RESULTS_DIR, "sessions-slurm-carol.png"));
    await page.close();
  });

  it("DELETE /v1/sessions/:id cancels the job: squeue no longer runs it, its Xvnc ends, the live connection closes with the reason", async () => {
    const answer = await callOk<SessionAnswer>(cluster.broker.url, `/v1/sessions/${sessionId}/resume`, { token, body: { profileId: PROFILE } }, [200]);
    const { page } = await openRelayed(browser, server, answer, "carol-cancelled");
    expect((await waitForPicture(page, solidPicture(DESKTOP_COLOURS.other), { timeoutMs: 20_000 })).mismatches).toEqual([]);
    expect(await xvncPidsOf(LOGIN)).not.toEqual([]);

    const deleted = await call(cluster.broker.url, `/v1/sessions/${sessionId}`, { method: "DELETE", token });
    expect(deleted.status, deleted.text).toBe(204);
    await page.waitForFunction(() => (globalThis as unknown as { e2e: { closeCode: number | null } }).e2e.closeCode !== null, undefined, { timeout: 5_000, polling: 20 });
    expect(await noVncStatus(page)).toMatchObject({ state: "disconnected", closeCode: 4000, closeReason: "session ended by its user" });
    await page.close();
    await waitFor(async () => ["", "CANCELLED"].includes(await jobState(jobId)), 15_000, `job ${jobId} to be cancelled`);
    const running = await execFileAsync("squeue", ["-h", "-u", LOGIN, "-t", "running,pending", "-o", "%i"]);
    expect(running.stdout.split("\n").filter(Boolean)).not.toContain(jobId);
    await waitFor(async () => !(await listMySessions(cluster.broker.url, token)).some((session) => session.id === sessionId), cluster.intervalMs, "the session to leave the list within one heartbeat", 20);
    await waitFor(async () => (await xvncPidsOf(LOGIN)).length === 0, 30_000, "the job's Xvnc to end");
  });
});
