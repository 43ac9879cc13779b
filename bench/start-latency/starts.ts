/**
 * Timed starts through the whole system, one after another: `POST /v1/sessions` as the user,
 * then (slurm) `GET /v1/sessions` until the node reports the job's desktop and a resume for the
 * relay, then noVNC in Chromium on the relay until the desktop shows. Each session is ended
 * (`DELETE`) and gone (its Xvnc, its job) before the next start. Also: placement alone, the same
 * POST on a profile with no launcher.
 */
import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Chromium, NoVncServer } from "../../test/e2e/browser.ts";
import type { LaunchCluster } from "../../test/e2e/launch-cluster.ts";
import { listMySessions, type SessionAnswer } from "../../test/e2e/launched-desktops.ts";
import { jobState } from "../../test/e2e/slurm.ts";
import { call } from "../../test/harness/client.ts";
import { waitFor } from "../../test/harness/wait.ts";
import { probedPage, timeDesktopInPage } from "./page-timing.ts";

const execFileAsync = promisify(execFile);

/** One start's stamps, ms after the POST was sent. */
export interface StartRun {
  answerMs: number;
  /** The desktop page's first script ran (navigation and the HTML done; noVNC's modules still to load). */
  pageMs: number;
  /** noVNC loaded: its RFB object made, the WebSocket to the relay opening. */
  connectingMs: number;
  /** slurm: the job wrote its endpoint file (its Xvnc answers; the file's mtime); xvnc: NaN. */
  endpointMs: number;
  /** slurm: the session listed connectable (the node reported the job's desktop); xvnc: = answerMs. */
  connectableMs: number;
  connectedMs: number;
  firstFrameMs: number;
  pictureMs: number;
}

export interface StartContext {
  cluster: LaunchCluster;
  browser: Chromium;
  server: NoVncServer;
  token: string;
  login: string;
  profileId: string;
  /** The colour the desktop shows (fixtures/solid-desktop). */
  rgb: number;
  timeoutMs: number;
}

async function userProcesses(login: string, name: string): Promise<number> {
  const { stdout } = await execFileAsync("pgrep", ["-c", "-u", login, "-x", name]).catch(() => ({ stdout: "0" }));
  return Number(stdout.trim());
}

/** When the slurm job wrote HOST:PORT to ~/.edge-desktops/<session>/endpoint (agent/launchers/lib/slurm-desktop.sh), epoch ms. */
async function endpointWrittenAt(login: string, sessionId: string): Promise<number> {
  const { stdout } = await execFileAsync("getent", ["passwd", login]);
  const home = stdout.split(":")[5] ?? "";
  return statSync(join(home, ".edge-desktops", sessionId, "endpoint")).mtimeMs;
}

/** Ends the session and waits until the list, the user's Xvnc processes and (slurm) the job are gone. */
async function endSession(context: StartContext, sessionId: string, jobId: string | null): Promise<void> {
  const deleted = await call(context.cluster.broker.url, `/v1/sessions/${sessionId}`, { method: "DELETE", token: context.token });
  if (deleted.status !== 204) throw new Error(`DELETE /v1/sessions/${sessionId}: ${deleted.status} ${deleted.text}`);
  await waitFor(async () => !(await listMySessions(context.cluster.broker.url, context.token)).some((session) => session.id === sessionId), 10_000, "the session to leave the list", 20);
  if (jobId) await waitFor(async () => ["", "CANCELLED", "COMPLETED"].includes(await jobState(jobId)), 30_000, `job ${jobId} to end`, 100);
  await waitFor(async () => (await userProcesses(context.login, "Xvnc")) === 0, 30_000, `${context.login}'s Xvnc to exit`, 50);
}

/** One start of the context's profile, timed to the desktop in the browser, then ended. */
export async function timedStart(context: StartContext): Promise<StartRun> {
  const { cluster, token, profileId } = context;
  const page = await probedPage(context.browser, context.rgb);
  const sentAt = Date.now();
  const started = await call<SessionAnswer>(cluster.broker.url, "/v1/sessions", { token, body: { profileId } });
  const answerMs = Date.now() - sentAt;
  if (started.status !== 201 && started.status !== 202) {
    await page.close();
    throw new Error(`POST /v1/sessions: ${started.status} ${started.text}`);
  }
  const { sessionId } = started.body;
  const jobId = started.body.state === "starting" ? (/job (\d+)/.exec(started.body.message ?? "")?.[1] ?? null) : null;
  try {
    let relay = started.body.relay;
    let connectableMs = answerMs;
    let endpointMs = Number.NaN;
    if (!relay) {
      await waitFor(
        async () => (await listMySessions(cluster.broker.url, token)).some((session) => session.id === sessionId && session.state !== "starting"),
        context.timeoutMs,
        `session ${sessionId} to be reported connectable`,
        20,
      );
      connectableMs = Date.now() - sentAt;
      endpointMs = (await endpointWrittenAt(context.login, sessionId)) - sentAt;
      const resumed = await call<SessionAnswer>(cluster.broker.url, `/v1/sessions/${sessionId}/resume`, { token, body: { profileId } });
      if (resumed.status !== 200 || !resumed.body.relay) throw new Error(`resume: ${resumed.status} ${resumed.text}`);
      relay = resumed.body.relay;
    }
    const times = await timeDesktopInPage(page, context.server, relay, context.timeoutMs);
    return {
      answerMs,
      pageMs: times.openedAt - sentAt,
      connectingMs: times.connectingAt - sentAt,
      endpointMs,
      connectableMs,
      connectedMs: times.connectedAt - sentAt,
      firstFrameMs: times.firstFrameAt - sentAt,
      pictureMs: times.pictureAt - sentAt,
    };
  } finally {
    if (!page.isClosed()) await page.close();
    await endSession(context, sessionId, jobId);
  }
}

/** `POST /v1/sessions` on a launcher-less relay profile: auth, placement (the pool's chain, a reservation) and the relay ticket. */
export async function timedPlacement(brokerUrl: string, token: string, profileId: string): Promise<number> {
  const sentAt = performance.now();
  const answer = await call<SessionAnswer>(brokerUrl, "/v1/sessions", { token, body: { profileId } });
  const ms = performance.now() - sentAt;
  if (answer.status !== 201) throw new Error(`POST /v1/sessions (placement only): ${answer.status} ${answer.text}`);
  return ms;
}
