/**
 * Watches launched sessions every `statusIntervalMs` (chained timers, never overlapping):
 * - a session whose main process exited has ended (or failed, if it was still queued); its
 *   launcher's stop is still called, to tidy up;
 * - a queued session's launcher is asked for its `status` until it answers running (the endpoint
 *   is registered, a `running` event goes out), failed or stopped; after `maxQueuedMs`, or
 *   MAX_STATUS_FAILURES failed answers in a row, it is stopped and reported failed;
 * - a running session without a pid is asked every `liveCheckIntervalMs`, since nothing else
 *   tells when its desktop (a batch job, say) ends.
 * A session busy with a start or stop is skipped until the next round.
 */
import type { Result } from "../../src/core/result.ts";
import type { LaunchersConfig } from "./config.ts";
import type { LaunchDeps } from "./launch-deps.ts";
import type { CallLauncher } from "./launcher-client.ts";
import type { LauncherReply } from "./reply.ts";
import type { LauncherInput } from "./request.ts";
import { killSessionProcesses, mainProcessAlive } from "./session-processes.ts";
import type { SessionEvent } from "./session-event.ts";
import type { LaunchedSession } from "./session-store.ts";

/** Failed `status` answers in a row after which a queued session is given up. */
export const MAX_STATUS_FAILURES = 5;

export interface WatchHooks {
  config: LaunchersConfig;
  get(sessionId: string): LaunchedSession | undefined;
  ids(): string[];
  isBusy(sessionId: string): boolean;
  exclusive<T>(sessionId: string, task: () => Promise<T>): Promise<T>;
  call: CallLauncher;
  inputFor(session: LaunchedSession, action: "status" | "stop", reason?: string): LauncherInput;
  applyReply(session: LaunchedSession, reply: LauncherReply & { state: "running" | "queued" }): Promise<Result<LaunchedSession, string>>;
  forget(session: LaunchedSession, event: SessionEvent, closeReason: string | null): Promise<void>;
  replace(session: LaunchedSession): Promise<void>;
  emit(event: SessionEvent): void;
}

export interface SessionWatch {
  check(): Promise<void>;
  stop(): Promise<void>;
}

export function startSessionWatch(hooks: WatchHooks, deps: LaunchDeps): SessionWatch {
  const lastStatusAt = new Map<string, number>();
  const failures = new Map<string, number>();
  let timer: unknown = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  const failed = (session: LaunchedSession, message: string): SessionEvent => ({ type: "failed", sessionId: session.sessionId, user: session.user.login, message });
  const ended = (session: LaunchedSession, reason: string): SessionEvent => ({ type: "ended", sessionId: session.sessionId, user: session.user.login, reason });

  /** Gives a queued session up: the launcher's stop (its job cancelled), else its processes killed. */
  async function giveUp(session: LaunchedSession, message: string): Promise<void> {
    const cancelled = await hooks.call(hooks.inputFor(session, "stop", message));
    if (!cancelled.ok || cancelled.value.state === "failed") await killSessionProcesses(session, deps);
    await hooks.forget(session, failed(session, message), message);
  }

  async function askStatus(session: LaunchedSession): Promise<void> {
    const id = session.sessionId;
    lastStatusAt.set(id, deps.now());
    const answer = await hooks.call(hooks.inputFor(session, "status"));
    if (!answer.ok) {
      const count = (failures.get(id) ?? 0) + 1;
      failures.set(id, count);
      deps.log(`launch: status of session ${id} failed (${count} in a row): ${answer.error.message}`);
      if (session.state === "starting" && count >= MAX_STATUS_FAILURES) await giveUp(session, `the launcher's status failed ${count} times: ${answer.error.message}`);
      return;
    }
    failures.delete(id);
    const reply = answer.value;
    if (reply.state === "failed") return hooks.forget(session, failed(session, reply.message), "session failed");
    if (reply.state === "stopped") return hooks.forget(session, ended(session, reply.message ?? "the session has ended"), "session ended");
    const applied = await hooks.applyReply(session, reply);
    if (!applied.ok) return hooks.forget(session, failed(session, applied.error), "session failed");
    if (JSON.stringify(applied.value) !== JSON.stringify(session)) await hooks.replace(applied.value);
    if (session.state === "starting" && applied.value.state === "running") {
      deps.log(`launch: session ${id} of ${session.user.login} is running at ${applied.value.endpoint}`);
      hooks.emit({ type: "running", sessionId: id, user: session.user.login });
    }
  }

  async function checkOne(id: string): Promise<void> {
    const session = hooks.get(id);
    if (!session) return;
    const alive = await mainProcessAlive(session, deps);
    if (alive === false) {
      const event = session.state === "starting" ? failed(session, "the session's process exited before it was ready") : ended(session, "the desktop's process exited");
      // The launcher's stop still tidies up after it (sockets, cookies); its answer changes nothing.
      await hooks.call(hooks.inputFor(session, "stop", "the desktop's process exited"));
      return hooks.forget(session, event, "session ended");
    }
    if (session.state === "starting") {
      if (deps.now() - session.startedAt > hooks.config.maxQueuedMs) {
        return giveUp(session, `still queued after ${Math.round(hooks.config.maxQueuedMs / 1000)} s; cancelled`);
      }
      return askStatus(session);
    }
    const since = lastStatusAt.get(id) ?? session.runningSince ?? session.startedAt;
    if (alive === null && deps.now() - since >= hooks.config.liveCheckIntervalMs) await askStatus(session);
  }

  async function round(): Promise<void> {
    const ids = hooks.ids().filter((id) => !hooks.isBusy(id));
    for (const id of [...lastStatusAt.keys()]) {
      if (!hooks.get(id)) {
        lastStatusAt.delete(id);
        failures.delete(id);
      }
    }
    await Promise.all(
      ids.map((id) =>
        hooks.exclusive(id, () => checkOne(id)).catch((error: unknown) => deps.log(`launch: watching session ${id} failed: ${error instanceof Error ? error.message : String(error)}`)),
      ),
    );
  }

  function check(): Promise<void> {
    running ??= round().finally(() => {
      running = null;
    });
    return running;
  }

  const schedule = () => {
    if (stopped) return;
    timer = deps.setTimer(() => {
      void check().finally(schedule);
    }, hooks.config.statusIntervalMs);
  };
  schedule();

  return {
    check,
    async stop() {
      stopped = true;
      if (timer !== null) deps.clearTimer(timer);
      await running;
    },
  };
}
