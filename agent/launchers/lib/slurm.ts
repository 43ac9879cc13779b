/**
 * Launcher "slurm" (Open OnDemand's batch connect): `start` submits slurm-desktop.sh with
 * `sbatch` as the user (through `as-user`, sudo) and answers queued; `status` answers queued
 * while the job waits, running with `tcp://HOST:PORT` once the job wrote its endpoint file, and
 * failed when the job ended first; `stop` cancels the job (`scancel`).
 *
 * params: { "session"?: [command…] (default ["/etc/X11/Xsession"]), "geometry"?, "depth"?,
 *           "partition"?: "debug", "time"?: "8:00:00" }
 * handle: { jobId }. Set `launchers.endpointHosts` to the compute nodes' names.
 */
import { asUser, isDepth, isGeometry, isStringArray } from "./helper.ts";
import { answer, fail, keyValues, param, readLauncherInput } from "./launcher-io.ts";

const input = await readLauncherInput();
const login = input.user.login;
const isText = (pattern: RegExp) => (value: unknown): value is string => typeof value === "string" && pattern.test(value);

if (input.action === "start") {
  const params = input.profile.params;
  const session = param(params, "session", isStringArray, ["/etc/X11/Xsession"], "an array of strings: an absolute command path and its arguments");
  const geometry = param(params, "geometry", isGeometry, "1280x800", 'a "WIDTHxHEIGHT" string');
  const depth = param(params, "depth", isDepth, 24, "16, 24 or 32");
  const partition = param(params, "partition", isText(/^[A-Za-z0-9_.-]{1,64}$/), "", "a partition name");
  const time = param(params, "time", isText(/^[0-9:-]{1,16}$/), "", 'a Slurm time limit such as "8:00:00"');
  const submitted = keyValues(await asUser(["slurm-submit", login, input.sessionId, geometry, String(depth), partition, time, "--", ...session]).catch((error: Error) => fail(error.message)));
  const jobId = submitted.get("job") ?? "";
  if (!/^\d+$/.test(jobId)) fail("sbatch gave no job id");
  answer({ state: "queued", message: `Waiting for Slurm to start your desktop (job ${jobId})`, handle: { jobId } });
}

const jobId = input.handle.jobId;
if (typeof jobId !== "string" || !/^\d{1,12}$/.test(jobId)) fail("this session's handle has no Slurm job id");

if (input.action === "status") {
  const status = keyValues(await asUser(["slurm-status", login, input.sessionId, jobId]).catch((error: Error) => fail(error.message)));
  const state = status.get("state") ?? "GONE";
  const endpoint = status.get("endpoint");
  if (state === "RUNNING" && endpoint) answer({ state: "running", endpoint: `tcp://${endpoint}`, message: `desktop of job ${jobId}`, handle: { jobId } });
  if (["PENDING", "CONFIGURING", "RUNNING", "REQUEUED", "RESIZING"].includes(state)) {
    const reason = status.get("reason");
    const why = state === "PENDING" && reason && reason !== "None" ? `: ${reason}` : "";
    answer({ state: "queued", message: state === "PENDING" ? `Queued in Slurm (job ${jobId}${why})` : `Your desktop is starting (job ${jobId})`, handle: { jobId } });
  }
  answer({ state: "failed", message: `The desktop's Slurm job ${jobId} ended (${state.toLowerCase()}) before the desktop was ready` });
}

await asUser(["slurm-cancel", login, input.sessionId, jobId]).catch((error: Error) => fail(error.message));
answer({ state: "stopped" });
