/**
 * The node's launched sessions, for the control channel: `start` runs the profile's launcher and
 * answers running (endpoint registered in the gateway, for that user only) or queued (the
 * launcher's message); `stop` ends a session (launcher stop, else its process group), closes its
 * live connections with the reason and unregisters its endpoint; `sessions()` lists them for
 * heartbeats, a running desktop with no live gateway connection as `suspended`. Every operation
 * on one session waits for the previous one; the list survives agent restarts (session-store.ts)
 * and is watched (session-watch.ts). Desktops outlive the agent: `close` leaves them running.
 */
import { err, ok, type Result } from "../../src/core/result.ts";
import type { ConnectionRegistry } from "../gateway/connections.ts";
import { describeEndpoint, parseEndpoint } from "../gateway/endpoint.ts";
import type { EndpointRegistry } from "../gateway/endpoint-resolver.ts";
import type { LaunchersConfig } from "./config.ts";
import type { LaunchDeps } from "./launch-deps.ts";
import { type CallLauncher, createLauncherClient, type LaunchErrorCode } from "./launcher-client.ts";
import type { LauncherReply } from "./reply.ts";
import { type LaunchNode, type LauncherInput, startRequestSchema } from "./request.ts";
import type { SessionEvent } from "./session-event.ts";
export type { SessionEvent } from "./session-event.ts";
import { captureProcesses, killSessionProcesses, mainProcessAlive } from "./session-processes.ts";
import { createSessionStore, type LaunchedSession } from "./session-store.ts";
import { startSessionWatch } from "./session-watch.ts";

/** The heartbeat carries at most 1000 sessions (src/protocol.ts). */
export const MAX_LAUNCHED_SESSIONS = 1000;

export type StartAnswer = { state: "running"; sessionId: string; display?: string; message?: string } | { state: "queued"; sessionId: string; message: string };
export interface StartFailure {
  code: LaunchErrorCode | "invalid-request" | "conflict" | "limit";
  message: string;
}
export interface StopFailure {
  code: "unknown-session" | "stop-failed";
  message: string;
}

/** A launched session as heartbeats report it; the endpoint never leaves the node. */
export interface NodeLaunchedSession {
  id: string;
  user: string;
  profileId: string;
  launcher: string;
  state: "starting" | "running" | "suspended";
  startedAt: number;
  display?: string;
  /** The launcher's last message while starting (queue position, reason). */
  message?: string;
}

export interface SessionManagerOptions {
  config: LaunchersConfig;
  stateDir: string;
  node: LaunchNode;
  /** The gateway's runtime registry and live connections; null when the node has no gateway. */
  gateway: { endpoints: Pick<EndpointRegistry, "set" | "delete">; connections: Pick<ConnectionRegistry, "list" | "disconnect"> } | null;
  /** Changes that happen after the answer: a queued session runs, fails, or a session ends. */
  onEvent?: (event: SessionEvent) => void;
  /** Replaces the real launcher calls (tests). */
  call?: CallLauncher;
}

export interface SessionManager {
  /** `request` is the broker's start command (parsed here with startRequestSchema). */
  start(request: unknown): Promise<Result<StartAnswer, StartFailure>>;
  stop(sessionId: string, reason: string): Promise<Result<void, StopFailure>>;
  sessions(): NodeLaunchedSession[];
  /** Runs the watch now: processes checked, queued sessions asked for their status. */
  check(): Promise<void>;
  /** Stops watching and waits for operations in flight; the desktops keep running. */
  close(): Promise<void>;
}

export async function startSessionManager(options: SessionManagerOptions, deps: LaunchDeps): Promise<SessionManager> {
  const { config, gateway } = options;
  const call = options.call ?? createLauncherClient(config, deps);
  const store = createSessionStore(options.stateDir, deps);
  const live = new Map<string, LaunchedSession>();
  const locks = new Map<string, Promise<unknown>>();
  const persist = () => store.save([...live.values()]);
  const emit = (event: SessionEvent) => options.onEvent?.(event);

  /** Runs `task` after every earlier task of the same session. */
  function exclusive<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    const previous = locks.get(sessionId) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    locks.set(sessionId, settled);
    void settled.then(() => {
      if (locks.get(sessionId) === settled) locks.delete(sessionId);
    });
    return next;
  }

  const inputFor = (session: LaunchedSession, action: "status" | "stop", reason = ""): LauncherInput => {
    const base = { sessionId: session.sessionId, user: session.user, profile: session.profile, data: session.data, node: options.node, handle: session.handle };
    return action === "stop" ? { ...base, action, reason } : { ...base, action };
  };

  const register = (session: LaunchedSession) => {
    const endpoint = session.state === "running" && session.endpoint ? parseEndpoint(session.endpoint) : null;
    if (endpoint) gateway?.endpoints.set(session.sessionId, endpoint, session.user.login);
  };

  const unregister = (sessionId: string, reason: string) => {
    gateway?.endpoints.delete(sessionId);
    gateway?.connections.disconnect({ sessionId }, reason);
  };

  /** Removes a session that has ended or failed, and says so; `closeReason` null: connections already closed. */
  async function forget(session: LaunchedSession, event: SessionEvent, closeReason: string | null): Promise<void> {
    if (closeReason !== null) unregister(session.sessionId, closeReason);
    live.delete(session.sessionId);
    await persist();
    deps.log(`launch: session ${session.sessionId} of ${session.user.login} ${event.type === "failed" ? `failed: ${event.message}` : `ended: ${event.type === "ended" ? event.reason : ""}`}`);
    emit(event);
  }

  /** The session after a launcher's running or queued answer, or the reason it cannot be used. */
  async function applyReply(session: LaunchedSession, reply: LauncherReply & { state: "running" | "queued" }): Promise<Result<LaunchedSession, string>> {
    const processes = await captureProcesses(reply, deps);
    if (!processes.ok) return processes;
    const kept = { pid: processes.value.pid ?? session.pid, pgid: processes.value.pgid ?? session.pgid };
    const common = { ...session, ...kept, handle: Object.keys(reply.handle).length > 0 ? reply.handle : session.handle };
    if (reply.state === "queued") return ok({ ...common, state: "starting", message: reply.message, endpoint: undefined });
    return ok({
      ...common,
      state: "running",
      endpoint: describeEndpoint(reply.endpoint),
      message: reply.message,
      display: reply.display ?? session.display,
      runningSince: session.runningSince ?? deps.now(),
    });
  }

  const answerOf = (session: LaunchedSession): StartAnswer =>
    session.state === "running"
      ? { state: "running", sessionId: session.sessionId, ...(session.display ? { display: session.display } : {}), ...(session.message ? { message: session.message } : {}) }
      : { state: "queued", sessionId: session.sessionId, message: session.message ?? "queued" };

  async function start(raw: unknown): Promise<Result<StartAnswer, StartFailure>> {
    const parsed = startRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return err({ code: "invalid-request", message: `invalid start request: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"}` });
    }
    const request = parsed.data;
    return exclusive(request.sessionId, async () => {
      const existing = live.get(request.sessionId);
      if (existing) {
        if (existing.user.login !== request.user.login) return err({ code: "conflict", message: `session ${request.sessionId} belongs to another user` });
        return ok(answerOf(existing));
      }
      if (live.size >= MAX_LAUNCHED_SESSIONS) return err({ code: "limit", message: `this node already holds ${MAX_LAUNCHED_SESSIONS} launched sessions` });
      const replied = await call({ ...request, action: "start", node: options.node });
      if (!replied.ok) return err(replied.error);
      const reply = replied.value;
      if (reply.state === "failed") return err({ code: "launcher-failed", message: reply.message });
      if (reply.state === "stopped") return err({ code: "launcher-failed", message: "the launcher answered that the session is stopped" });
      const fresh: LaunchedSession = { ...request, state: "starting", handle: {}, startedAt: deps.now() };
      const applied = await applyReply(fresh, reply);
      if (!applied.ok) return err({ code: "launcher-failed", message: applied.error });
      live.set(request.sessionId, applied.value);
      register(applied.value);
      await persist();
      deps.log(`launch: ${request.user.login} session ${request.sessionId} (${request.profile.launcher}) ${applied.value.state === "running" ? `running at ${applied.value.endpoint}` : "queued"}`);
      return ok(answerOf(applied.value));
    });
  }

  async function stop(sessionId: string, reason: string): Promise<Result<void, StopFailure>> {
    return exclusive(sessionId, async () => {
      const session = live.get(sessionId);
      if (!session) return err({ code: "unknown-session", message: `no launched session ${sessionId} on this node` });
      unregister(sessionId, reason);
      const stopped = await call(inputFor(session, "stop", reason));
      if (!stopped.ok || stopped.value.state === "failed") {
        const launcherMessage = stopped.ok ? (stopped.value.state === "failed" ? stopped.value.message : "") : stopped.error.message;
        const killed = (await mainProcessAlive(session, deps)) === false ? ok(undefined) : await killSessionProcesses(session, deps);
        if (!killed.ok) {
          register(session);
          return err({ code: "stop-failed", message: [launcherMessage, killed.error].filter(Boolean).join("; ") });
        }
      }
      await forget(session, { type: "ended", sessionId, user: session.user.login, reason }, null);
      return ok(undefined);
    });
  }

  function sessions(): NodeLaunchedSession[] {
    const connected = gateway ? new Set(gateway.connections.list().map((connection) => connection.sessionId)) : null;
    return [...live.values()].map((session) => ({
      id: session.sessionId,
      user: session.user.login,
      profileId: session.profile.id,
      launcher: session.profile.launcher,
      state: session.state === "starting" ? "starting" : connected && !connected.has(session.sessionId) ? "suspended" : "running",
      startedAt: session.startedAt,
      ...(session.display ? { display: session.display } : {}),
      ...(session.state === "starting" && session.message ? { message: session.message } : {}),
    }));
  }

  // Recovery: keep what was launched before a restart, unless its main process is gone.
  let dropped = 0;
  for (const session of await store.load()) {
    if ((await mainProcessAlive(session, deps)) === false) {
      dropped++;
      deps.log(`launch: session ${session.sessionId} of ${session.user.login} ended while the agent was not running`);
      continue;
    }
    live.set(session.sessionId, session);
    register(session);
  }
  if (dropped > 0 || live.size > 0) deps.log(`launch: ${live.size} launched session(s) recovered from the state directory, ${dropped} gone`);
  if (dropped > 0) await persist();

  const watch = startSessionWatch(
    {
      config,
      get: (sessionId) => live.get(sessionId),
      ids: () => [...live.keys()],
      isBusy: (sessionId) => locks.has(sessionId),
      exclusive,
      call,
      inputFor,
      applyReply,
      forget,
      emit,
      async replace(session) {
        live.set(session.sessionId, session);
        if (session.state === "running") register(session);
        else gateway?.endpoints.delete(session.sessionId);
        await persist();
      },
    },
    deps,
  );

  return {
    start,
    stop,
    sessions,
    check: () => watch.check(),
    async close() {
      await watch.stop();
      await Promise.allSettled([...locks.values()]);
      await persist();
    },
  };
}
