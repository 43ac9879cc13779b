/**
 * The processes a launcher names for a session: its main `pid` (the session ends when it exits)
 * and its `pgid` (killed on stop when the launcher's own stop fails). Each is remembered with its
 * identity (boot id and start time), so a pid reused by another program, or a node that rebooted,
 * is never taken for the session, and never signalled.
 */
import { err, ok, type Result } from "../../src/core/result.ts";
import type { LaunchDeps } from "./launch-deps.ts";
import type { ProcessRefs } from "./reply.ts";
import type { LaunchedSession } from "./session-store.ts";

/** How long a killed group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2_000;
const POLL_MS = 50;

type Refs = Pick<LaunchedSession, "pid" | "pgid">;
type Deps = Pick<LaunchDeps, "processIdentity" | "signal" | "setTimer" | "clearTimer">;

/** Identities of the processes a launcher reported; an error when its main process is already gone. */
export async function captureProcesses(refs: ProcessRefs, deps: Deps): Promise<Result<Refs, string>> {
  const captured: Refs = {};
  if (refs.pid !== undefined) {
    const identity = await deps.processIdentity(refs.pid);
    if (identity === null) return err(`the session's process (pid ${refs.pid}) is not running`);
    captured.pid = { pid: refs.pid, identity };
  }
  if (refs.pgid !== undefined) captured.pgid = { pid: refs.pgid, identity: await deps.processIdentity(refs.pgid) };
  return ok(captured);
}

/** false when the session's main process has exited; null when it named none. */
export async function mainProcessAlive(session: Refs, deps: Deps): Promise<boolean | null> {
  if (!session.pid) return null;
  return (await deps.processIdentity(session.pid.pid)) === session.pid.identity;
}

const sleep = (ms: number, deps: Deps) => new Promise<void>((resolve) => deps.setTimer(resolve, ms));

/** Whether the group (or the single process) still has a member: signal 0 probes without acting. */
function exists(target: number, deps: Deps): boolean {
  return deps.signal(target, 0) !== "gone";
}

/**
 * Ends the session's processes without the launcher: SIGTERM to its group (or, without one, its
 * main process), SIGKILL after KILL_GRACE_MS. Refuses a group whose leader is now another program.
 */
export async function killSessionProcesses(session: Refs, deps: Deps, graceMs = KILL_GRACE_MS): Promise<Result<void, string>> {
  let target: number;
  if (session.pgid) {
    const leader = await deps.processIdentity(session.pgid.pid);
    if (leader !== null && leader !== session.pgid.identity) return err(`process group ${session.pgid.pid} now belongs to another program`);
    target = -session.pgid.pid;
  } else if (session.pid) {
    if ((await mainProcessAlive(session, deps)) !== true) return ok(undefined);
    target = session.pid.pid;
  } else {
    return err("the launcher named no process to end");
  }
  const sent = deps.signal(target, "SIGTERM");
  if (sent === "gone") return ok(undefined);
  if (sent === "denied") return err(`the agent may not signal ${target < 0 ? `process group ${-target}` : `pid ${target}`} (another user's)`);
  for (let waited = 0; waited < graceMs; waited += POLL_MS) {
    await sleep(POLL_MS, deps);
    if (!exists(target, deps)) return ok(undefined);
  }
  deps.signal(target, "SIGKILL");
  return ok(undefined);
}
