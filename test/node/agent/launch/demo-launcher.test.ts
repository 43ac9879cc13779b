/**
 * The shipped `demo` launcher for real (agent/launchers/demo): the session manager starts a demo
 * desktop per session, the node gateway bridges an asserted WebSocket to it, a closed client
 * leaves the session suspended and a new connection resumes the same desktop, stop ends it; a
 * client offering `binary` gets RFB (noVNC), any other the greeting and echo.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type SessionManager, startSessionManager } from "../../../../agent/launch/session-manager.ts";
import { SESSIONS_FILE } from "../../../../agent/launch/session-store.ts";
import { closeOf, connect, mintAssertion, nextMessage, openLogged, startTestGateway } from "../gateway/helpers.ts";
import { tempDir } from "../helpers.ts";
import { eventually, isAlive, killAfterTest, launchConfig, NODE, realLaunchDeps, startRequest, BOB } from "./helpers.ts";
import { readFile } from "node:fs/promises";

const LAUNCHERS = join(import.meta.dirname, "../../../../agent/launchers");

const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

async function demoNode() {
  const gateway = await startTestGateway({});
  const stateDir = await tempDir();
  const manager = await startSessionManager(
    { config: launchConfig(LAUNCHERS, { statusIntervalMs: 60_000 }), stateDir, node: NODE, gateway: { endpoints: gateway.endpoints, connections: gateway.gateway.connections } },
    realLaunchDeps(),
  );
  managers.push(manager);
  return { gateway, manager, stateDir };
}

async function desktopPid(stateDir: string, sessionId: string): Promise<number> {
  const file = JSON.parse(await readFile(join(stateDir, SESSIONS_FILE), "utf8")) as { sessions: Array<{ sessionId: string; pgid?: { pid: number } }> };
  const pid = file.sessions.find((session) => session.sessionId === sessionId)?.pgid?.pid ?? 0;
  killAfterTest(pid);
  return pid;
}

describe("the demo launcher", () => {
  it("starts a desktop per session that greets its user through the gateway, suspends, resumes and ends", async () => {
    const { gateway, manager, stateDir } = await demoNode();
    const started = await manager.start(startRequest("demo", "ses_demo1"));
    expect(started).toEqual({ ok: true, value: { state: "running", sessionId: "ses_demo1", display: "demo", message: "demo desktop for alice" } });
    const pid = await desktopPid(stateDir, "ses_demo1");
    expect(await isAlive(pid)).toBe(true);
    expect(manager.sessions()).toEqual([expect.objectContaining({ id: "ses_demo1", user: "alice", state: "suspended" })]);

    const first = await openLogged(gateway.url, await mintAssertion({ login: "alice", sessionId: "ses_demo1" }));
    const greeting = first.received[0] ?? (await nextMessage(first.ws)).data;
    expect(greeting.toString()).toMatch(/^demo desktop on desk01: hello alice \(session ses_demo1\); connection 1 to this desktop/);
    first.ws.send("ping");
    expect((await nextMessage(first.ws)).data.toString()).toBe("ping");
    expect(manager.sessions()[0]?.state).toBe("running");

    const closed = closeOf(first.ws);
    first.ws.close();
    await closed;
    await eventually(() => manager.sessions()[0]?.state === "suspended", 3_000, "the session to be suspended");

    const again = await openLogged(gateway.url, await mintAssertion({ login: "alice", sessionId: "ses_demo1" }));
    const resumed = again.received[0] ?? (await nextMessage(again.ws)).data;
    expect(resumed.toString()).toContain("hello alice (session ses_demo1); connection 2 to this desktop");

    const ended = closeOf(again.ws);
    expect(await manager.stop("ses_demo1", "terminated by alice")).toEqual({ ok: true, value: undefined });
    expect(await ended).toEqual({ code: 4000, reason: "terminated by alice" });
    expect(manager.sessions()).toEqual([]);
    await eventually(async () => !(await isAlive(pid)), 3_000, "the demo desktop to exit");
    const refused = await connect(gateway.url, await mintAssertion({ login: "alice", sessionId: "ses_demo1" }));
    expect(refused.ok ? 101 : refused.status).toBe(404);
  });

  it("serves a real RFB desktop to a client offering `binary` (noVNC), the text greeting to others", async () => {
    const { gateway, manager, stateDir } = await demoNode();
    await manager.start(startRequest("demo", "ses_rfb"));
    await desktopPid(stateDir, "ses_rfb");
    const text = await openLogged(gateway.url, await mintAssertion({ login: "alice", sessionId: "ses_rfb" }));
    expect((text.received[0] ?? (await nextMessage(text.ws)).data).toString()).toContain("connection 1 to this desktop");

    const rfb = await openLogged(gateway.url, await mintAssertion({ login: "alice", sessionId: "ses_rfb" }), ["binary"]);
    expect(rfb.ws.protocol).toBe("binary");
    // RFB is a byte stream: read it as one, whatever the WebSocket messages it came in.
    const stream = () => Buffer.concat(rfb.received);
    const upTo = async (bytes: number) => {
      await eventually(() => stream().length >= bytes, 5_000, `${bytes} bytes of RFB`);
      return stream();
    };
    expect((await upTo(12)).subarray(0, 12).toString("latin1")).toBe("RFB 003.008\n");
    rfb.ws.send(Buffer.from("RFB 003.008\n", "latin1"));
    expect([...(await upTo(14)).subarray(12, 14)]).toEqual([1, 1]);
    rfb.ws.send(Buffer.from([1]));
    expect([...(await upTo(18)).subarray(14, 18)]).toEqual([0, 0, 0, 0]);
    rfb.ws.send(Buffer.from([1]));
    const nameLength = (await upTo(42)).readUInt32BE(38);
    const init = (await upTo(42 + nameLength)).subarray(18);
    expect([init.readUInt16BE(0), init.readUInt16BE(2)]).toEqual([800, 480]);
    expect(init.subarray(24, 24 + nameLength).toString("latin1")).toBe("demo desktop on desk01");
    // Then its greeting on the clipboard (ServerCutText), then, asked for, a full-screen update:
    // 1.5 MB, over the gateway's 1 MiB message limit, so it must come in pieces.
    const cutAt = 42 + nameLength;
    expect((await upTo(cutAt + 8)).readUInt8(cutAt)).toBe(3);
    const updateAt = cutAt + 8 + stream().readUInt32BE(cutAt + 4);
    const request = Buffer.alloc(10);
    request.writeUInt8(3, 0);
    request.writeUInt16BE(800, 6);
    request.writeUInt16BE(480, 8);
    rfb.ws.send(request);
    const update = (await upTo(updateAt + 4 + 12 + 800 * 480 * 4)).subarray(updateAt);
    expect([update.readUInt8(0), update.readUInt16BE(2), update.readUInt16BE(8), update.readUInt16BE(10)]).toEqual([0, 1, 800, 480]);
    expect(rfb.ws.readyState).toBe(rfb.ws.OPEN);
  });

  it("gives each user their own desktop, and another user's assertion cannot open it", async () => {
    const { gateway, manager, stateDir } = await demoNode();
    await manager.start(startRequest("demo", "ses_a"));
    await manager.start(startRequest("demo", "ses_b", BOB));
    await desktopPid(stateDir, "ses_a");
    await desktopPid(stateDir, "ses_b");
    const bob = await openLogged(gateway.url, await mintAssertion({ login: "bob", sessionId: "ses_b" }));
    expect((bob.received[0] ?? (await nextMessage(bob.ws)).data).toString()).toContain("hello bob (session ses_b)");
    const intruder = await connect(gateway.url, await mintAssertion({ login: "bob", sessionId: "ses_a" }));
    expect(intruder.ok ? 101 : intruder.status).toBe(403);
  });

  it("ends by itself after lifetimeMs, and the watch notices", async () => {
    const { manager, stateDir } = await demoNode();
    await manager.start(startRequest("demo", "ses_short", undefined, { lifetimeMs: 1_000 }));
    const pid = await desktopPid(stateDir, "ses_short");
    await eventually(async () => !(await isAlive(pid)), 5_000, "the demo desktop to reach its lifetime");
    await manager.check();
    expect(manager.sessions()).toEqual([]);
  });
});
