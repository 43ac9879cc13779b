/**
 * The session manager on real launcher processes: endpoints registered for their owner and
 * removed on stop, suspended without a live connection, queued sessions watched until they run
 * or fail, the process-group fallback, and recovery after an agent restart.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type SessionEvent, type SessionManager, startSessionManager } from "../../../../agent/launch/session-manager.ts";
import { SESSIONS_FILE } from "../../../../agent/launch/session-store.ts";
import type { LaunchersConfig } from "../../../../agent/launch/config.ts";
import { tempDir } from "../helpers.ts";
import { fakeGateway, launcherCalls, writeDeskLauncher, writeQueueLauncher } from "./fixtures.ts";
import { ALICE, BOB, eventually, isAlive, killAfterTest, launchConfig, launcherDir, NODE, realLaunchDeps, startRequest } from "./helpers.ts";

const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

async function setUp(overrides: Partial<LaunchersConfig> = {}, stateDir?: string, dir?: string) {
  const launchers = dir ?? (await launcherDir());
  const state = stateDir ?? (await tempDir());
  const gateway = fakeGateway();
  const events: SessionEvent[] = [];
  const deps = realLaunchDeps();
  const manager = await startSessionManager(
    { config: launchConfig(launchers, { statusIntervalMs: 60_000, ...overrides }), stateDir: state, node: NODE, gateway, onEvent: (event) => events.push(event) },
    deps,
  );
  managers.push(manager);
  return { manager, gateway, events, dir: launchers, stateDir: state, deps };
}

async function pidOf(manager: SessionManager, stateDir: string, sessionId: string): Promise<number> {
  await manager.check();
  const file = JSON.parse(await readFile(join(stateDir, SESSIONS_FILE), "utf8")) as { sessions: Array<{ sessionId: string; pid?: { pid: number } }> };
  const pid = file.sessions.find((session) => session.sessionId === sessionId)?.pid?.pid;
  if (!pid) throw new Error(`no pid recorded for ${sessionId}`);
  killAfterTest(pid);
  return pid;
}

describe("session manager: start and stop", () => {
  it("registers a running session's endpoint for its owner only, and answers without the endpoint", async () => {
    const { manager, gateway, dir } = await setUp();
    await writeDeskLauncher(dir);
    const answer = await manager.start(startRequest("desk"));
    expect(answer).toEqual({ ok: true, value: { state: "running", sessionId: "ses_1", display: ":5" } });
    const resolved = gateway.endpoints.resolve("ses_1", "alice");
    expect(resolved.ok && resolved.value.kind).toBe("unix");
    expect(gateway.endpoints.resolve("ses_1", "bob")).toEqual({ ok: false, error: "other-user" });
    const [call] = await launcherCalls(dir);
    expect(call).toMatchObject({ action: "start", sessionId: "ses_1", user: ALICE, profile: { id: "desktop", launcher: "desk" }, data: { client: "test" }, node: NODE });
  });

  it("reports a running session suspended while no gateway connection is open, running while one is", async () => {
    const { manager, gateway, dir } = await setUp();
    await writeDeskLauncher(dir);
    await manager.start(startRequest("desk"));
    expect(manager.sessions()).toEqual([expect.objectContaining({ id: "ses_1", user: "alice", profileId: "desktop", launcher: "desk", state: "suspended", display: ":5" })]);
    gateway.connected.add("ses_1");
    expect(manager.sessions()[0]?.state).toBe("running");
    gateway.connected.delete("ses_1");
    expect(manager.sessions()[0]?.state).toBe("suspended");
  });

  it("answers a repeated start of the same session with its state, and refuses it to another user", async () => {
    const { manager, dir } = await setUp();
    await writeDeskLauncher(dir);
    const first = await manager.start(startRequest("desk"));
    expect(await manager.start(startRequest("desk"))).toEqual(first);
    expect(await manager.start(startRequest("desk", "ses_1", BOB))).toEqual({ ok: false, error: { code: "conflict", message: "session ses_1 belongs to another user" } });
    expect((await launcherCalls(dir)).length).toBe(1);
  });

  it("fails a start with the launcher's message and keeps nothing of it", async () => {
    const { manager, gateway, dir } = await setUp();
    const { writeLauncher } = await import("./helpers.ts");
    await writeLauncher(dir, "broken", `echo "no display free for alice" >&2; exit 1`);
    expect(await manager.start(startRequest("broken"))).toEqual({ ok: false, error: { code: "launcher-failed", message: "no display free for alice" } });
    expect(manager.sessions()).toEqual([]);
    expect(gateway.endpoints.list()).toEqual([]);
    expect(await manager.start(startRequest("absent"))).toEqual({ ok: false, error: { code: "launcher-unavailable", message: 'no launcher "absent" on this node' } });
    expect((await manager.start({ sessionId: "../x", user: ALICE, profile: { id: "p", launcher: "desk" } })).ok).toBe(false);
  });

  it("stops a session: the launcher's stop with its handle and the reason, connections closed with it, endpoint gone", async () => {
    const { manager, gateway, dir, stateDir, events } = await setUp();
    await writeDeskLauncher(dir);
    await manager.start(startRequest("desk"));
    const pid = await pidOf(manager, stateDir, "ses_1");
    expect(await manager.stop("ses_1", "terminated by alice")).toEqual({ ok: true, value: undefined });
    const stop = (await launcherCalls(dir)).at(-1);
    expect(stop).toMatchObject({ action: "stop", reason: "terminated by alice", handle: { pid } });
    expect(gateway.disconnects).toEqual([{ match: { sessionId: "ses_1" }, reason: "terminated by alice" }]);
    expect(gateway.endpoints.list()).toEqual([]);
    expect(manager.sessions()).toEqual([]);
    expect(events).toEqual([{ type: "ended", sessionId: "ses_1", user: "alice", reason: "terminated by alice" }]);
    await eventually(async () => !(await isAlive(pid)), 3_000, "the desktop to end");
    expect(await manager.stop("ses_1", "again")).toEqual({ ok: false, error: { code: "unknown-session", message: "no launched session ses_1 on this node" } });
  });

  it("kills the session's process group when the launcher's stop fails", async () => {
    const { manager, dir, stateDir } = await setUp();
    await writeDeskLauncher(dir, { stop: "broken" });
    await manager.start(startRequest("desk"));
    const pid = await pidOf(manager, stateDir, "ses_1");
    expect(await manager.stop("ses_1", "admin ended it")).toEqual({ ok: true, value: undefined });
    expect(await isAlive(pid)).toBe(false);
    expect(manager.sessions()).toEqual([]);
  });

  it("keeps the session, and its endpoint, when neither the launcher nor a process group can end it", async () => {
    const { manager, gateway, dir } = await setUp();
    await writeDeskLauncher(dir, { stop: "broken", reportPid: false });
    await manager.start(startRequest("desk"));
    expect(await manager.stop("ses_1", "bye")).toEqual({ ok: false, error: { code: "stop-failed", message: "stop is not supported here; the launcher named no process to end" } });
    expect(manager.sessions()).toHaveLength(1);
    expect(gateway.endpoints.resolve("ses_1", "alice").ok).toBe(true);
  });
});

describe("session manager: watching sessions", () => {
  it("asks a queued session's launcher for its status until it runs, then registers it and says so", async () => {
    const { manager, gateway, dir, events } = await setUp();
    await writeQueueLauncher(dir);
    expect(await manager.start(startRequest("queue"))).toEqual({ ok: true, value: { state: "queued", sessionId: "ses_1", message: "waiting for a free node" } });
    expect(gateway.endpoints.list()).toEqual([]);
    await manager.check();
    expect(manager.sessions()).toEqual([expect.objectContaining({ id: "ses_1", state: "starting", message: "still waiting" })]);
    await writeFile(join(dir, "go"), "");
    await manager.check();
    expect(manager.sessions()).toEqual([expect.objectContaining({ id: "ses_1", state: "suspended", display: ":9" })]);
    expect(gateway.endpoints.resolve("ses_1", "alice")).toEqual({ ok: true, value: { kind: "tcp", host: "127.0.0.1", port: 5999 } });
    expect(events).toEqual([{ type: "running", sessionId: "ses_1", user: "alice" }]);
    const status = (await launcherCalls(dir)).find((call) => call.action === "status");
    expect(status).toMatchObject({ handle: { job: "42" }, sessionId: "ses_1" });
  });

  it("drops a queued session whose status answers failed, with the launcher's message", async () => {
    const { manager, dir, events } = await setUp();
    await writeQueueLauncher(dir);
    await manager.start(startRequest("queue"));
    await writeFile(join(dir, "fail"), "");
    await manager.check();
    expect(manager.sessions()).toEqual([]);
    expect(events).toEqual([{ type: "failed", sessionId: "ses_1", user: "alice", message: "the job was preempted" }]);
  });

  it("gives up a session queued longer than maxQueuedMs: the launcher's stop cancels it", async () => {
    const { manager, dir, events } = await setUp({ maxQueuedMs: 1_000 });
    await writeQueueLauncher(dir);
    await manager.start(startRequest("queue"));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await manager.check();
    expect(manager.sessions()).toEqual([]);
    expect((await launcherCalls(dir)).at(-1)).toMatchObject({ action: "stop", reason: "still queued after 1 s; cancelled" });
    expect(events).toEqual([{ type: "failed", sessionId: "ses_1", user: "alice", message: "still queued after 1 s; cancelled" }]);
  });

  it("polls by itself every statusIntervalMs", async () => {
    const { manager, dir, events } = await setUp({ statusIntervalMs: 100 });
    await writeQueueLauncher(dir);
    await manager.start(startRequest("queue"));
    await writeFile(join(dir, "go"), "");
    await eventually(() => events.length === 1, 3_000, "the running event");
    expect(manager.sessions()[0]?.state).toBe("suspended");
  });

  it("notices a desktop whose process exited by itself: it ends, its endpoint goes", async () => {
    const { manager, gateway, dir, stateDir, events } = await setUp();
    await writeDeskLauncher(dir);
    await manager.start(startRequest("desk"));
    process.kill(await pidOf(manager, stateDir, "ses_1"), "SIGKILL");
    await eventually(async () => {
      await manager.check();
      return manager.sessions().length === 0;
    }, 3_000, "the session to end");
    expect(gateway.endpoints.list()).toEqual([]);
    expect(events).toEqual([{ type: "ended", sessionId: "ses_1", user: "alice", reason: "the desktop's process exited" }]);
  });
});

describe("session manager: agent restarts", () => {
  it("recovers launched sessions from the state directory (mode 0600) and registers their endpoints again", async () => {
    const first = await setUp();
    await writeDeskLauncher(first.dir);
    await first.manager.start(startRequest("desk", "ses_1"));
    await first.manager.start(startRequest("desk", "ses_2", BOB));
    const pid = await pidOf(first.manager, first.stateDir, "ses_1");
    await pidOf(first.manager, first.stateDir, "ses_2");
    expect((await stat(join(first.stateDir, SESSIONS_FILE))).mode & 0o777).toBe(0o600);
    await first.manager.close();

    const second = await setUp({}, first.stateDir, first.dir);
    expect(second.manager.sessions().map((session) => [session.id, session.user])).toEqual([["ses_1", "alice"], ["ses_2", "bob"]]);
    expect(second.gateway.endpoints.resolve("ses_1", "alice").ok).toBe(true);
    expect(second.gateway.endpoints.resolve("ses_2", "alice")).toEqual({ ok: false, error: "other-user" });
    await second.manager.close();

    process.kill(pid, "SIGKILL");
    await eventually(async () => !(await isAlive(pid)), 3_000, "the desktop to die");
    const third = await setUp({}, first.stateDir, first.dir);
    expect(third.manager.sessions().map((session) => session.id)).toEqual(["ses_2"]);
    expect(third.deps.lines).toContain("launch: session ses_1 of alice ended while the agent was not running");
  });

  it("sets a broken session file aside and starts empty", async () => {
    const stateDir = await tempDir();
    await writeFile(join(stateDir, SESSIONS_FILE), "{ not json");
    const { manager, deps } = await setUp({}, stateDir);
    expect(manager.sessions()).toEqual([]);
    expect(deps.lines.some((line) => line.includes("is not a valid session list; moved to"))).toBe(true);
  });
});
