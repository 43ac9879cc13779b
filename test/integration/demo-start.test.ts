/**
 * `npm start`'s demo cluster (scripts/demo-cluster.ts, what scripts/start.ts runs under `wrangler
 * dev`) on the harness's broker: the `demo` profile launches a real demo desktop process on a
 * node; noVNC's `binary` subprotocol through the relay and the node gateway gets RFB (a full
 * screen too), a plain client the greeting; a disconnect leaves the session suspended and the
 * next start resumes it; DELETE ends it; stopping the cluster ends the desktops its agents left
 * running, and a second run on the same broker state enrols afresh. Loopback only.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSIONS_FILE } from "../../agent/launch/session-store.ts";
import { type DemoCluster, DEMO_PROFILE_ID, startDemoCluster } from "../../scripts/demo-cluster.ts";
import { type LocalBroker, scratchBrokerOptions, startBroker } from "../harness/broker.ts";
import { call, signIn } from "../harness/client.ts";
import { waitFor } from "../harness/wait.ts";

const INTERVAL_MS = 1000;

interface StartAnswer {
  sessionId: string;
  serverId: string;
  resumed: boolean;
  state: string;
  relay: { connectUrl: string };
}

interface ListedSession {
  id: string;
  state: string;
  profileId?: string;
}

let workDir: string;
let broker: LocalBroker;
let cluster: DemoCluster;
let token: string;

async function start(): Promise<{ status: number; body: StartAnswer }> {
  return call<StartAnswer>(broker.url, "/v1/sessions", { token, body: { profileId: DEMO_PROFILE_ID } });
}

async function mySessions(): Promise<ListedSession[]> {
  return (await call<{ sessions: ListedSession[] }>(broker.url, "/v1/sessions", { token })).body.sessions;
}

/** The desktop's pid as the node's agent recorded it (its launched-sessions file). */
function desktopPid(serverId: string, sessionId: string): number {
  const agent = cluster.agents.find((candidate) => candidate.serverId === serverId);
  if (!agent) throw new Error(`no demo agent ${serverId}`);
  const file = JSON.parse(readFileSync(join(agent.stateDir, SESSIONS_FILE), "utf8")) as { sessions: Array<{ sessionId: string; pid?: { pid: number } }> };
  const pid = file.sessions.find((session) => session.sessionId === sessionId)?.pid?.pid;
  if (!pid) throw new Error(`no desktop pid for ${sessionId}`);
  return pid;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Opens the relay offering `protocols`, returns the chosen subprotocol and the first message, then closes. */
function firstMessage(url: string, protocols: string[]): Promise<{ protocol: string; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols);
    const timer = setTimeout(() => reject(new Error("nothing from the desktop within 10 s")), 10_000);
    socket.once("message", (data: Buffer) => {
      clearTimeout(timer);
      socket.once("close", () => resolve({ protocol: socket.protocol, data }));
      socket.close(1000, "done");
    });
    socket.once("unexpected-response", (_request, response) => reject(new Error(`relay refused: HTTP ${response.statusCode}`)));
    socket.once("error", reject);
  });
}

/**
 * What noVNC does first, through the relay: the RFB 3.8 handshake, then a full-screen update
 * request; resolves with the update's header once all of it (1.5 MB, over a WebSocket hop's
 * 1 MiB message limit, so in pieces) has arrived.
 */
function fullScreenUpdate(url: string): Promise<{ type: number; rects: number; width: number; height: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, ["binary"]);
    const timer = setTimeout(() => reject(new Error("no full-screen update within 15 s")), 15_000);
    let stream = Buffer.alloc(0);
    let step = 0;
    socket.on("message", (data: Buffer) => {
      stream = Buffer.concat([stream, data]);
      // ProtocolVersion (12 bytes), security types (2), SecurityResult (4): answered in turn.
      const replies: Array<[number, Buffer]> = [[12, Buffer.from("RFB 003.008\n", "latin1")], [14, Buffer.from([1])], [18, Buffer.from([1])]];
      for (const [index, [bytes, reply]] of replies.entries()) {
        if (step === index && stream.length >= bytes) {
          step = index + 1;
          socket.send(reply);
        }
      }
      if (step === 3 && stream.length >= 42) {
        const nameLength = stream.readUInt32BE(38);
        const cutAt = 42 + nameLength;
        if (stream.length < cutAt + 8) return;
        step = 4;
        stream = stream.subarray(cutAt + 8 + stream.readUInt32BE(cutAt + 4));
        const request = Buffer.alloc(10);
        request.writeUInt8(3, 0);
        request.writeUInt16BE(800, 6);
        request.writeUInt16BE(480, 8);
        socket.send(request);
      }
      if (step === 4 && stream.length >= 4 + 12 + 800 * 480 * 4) {
        clearTimeout(timer);
        resolve({ type: stream.readUInt8(0), rects: stream.readUInt16BE(2), width: stream.readUInt16BE(8), height: stream.readUInt16BE(10) });
        socket.close(1000, "done");
      }
    });
    socket.once("close", (code, reason) => reject(new Error(`closed ${code} ${String(reason)} before the update`)));
    socket.once("error", reject);
  });
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "broker-demo-"));
  broker = await startBroker(await scratchBrokerOptions(workDir));
  cluster = await startDemoCluster(broker, { dir: workDir, intervalMs: INTERVAL_MS });
  const alice = cluster.users.find((user) => user.login === "alice");
  if (!alice) throw new Error("no demo user alice");
  token = await signIn(broker, alice.login, alice.password);
});

afterAll(async () => {
  await cluster?.stop();
  await broker?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe("npm start's demo cluster", () => {
  it("launches a demo desktop on a start, which noVNC reaches as RFB through the relay; a disconnect suspends it, the next start resumes it, DELETE ends it", async () => {
    const first = await start();
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ state: "running", resumed: false });
    const { sessionId, serverId } = first.body;
    const pid = desktopPid(serverId, sessionId);
    expect(isAlive(pid)).toBe(true);

    const rfb = await firstMessage(first.body.relay.connectUrl, ["binary"]);
    expect(rfb.protocol).toBe("binary");
    expect(rfb.data.toString("latin1")).toBe("RFB 003.008\n");
    await waitFor(async () => (await mySessions()).some((session) => session.id === sessionId && session.state === "suspended"), 5 * INTERVAL_MS, "the session suspended");
    const resumed = await start();
    expect(resumed.body).toMatchObject({ sessionId, resumed: true });
    expect(await fullScreenUpdate(resumed.body.relay.connectUrl)).toEqual({ type: 0, rects: 1, width: 800, height: 480 });
    await waitFor(async () => (await mySessions()).some((session) => session.id === sessionId && session.state === "suspended"), 5 * INTERVAL_MS, "the session suspended again");

    const again = await start();
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ sessionId, serverId, resumed: true, state: "running" });
    const text = await firstMessage(again.body.relay.connectUrl, []);
    expect(text.data.toString("utf8")).toContain(`hello alice (session ${sessionId}); connection 3 to this desktop`);

    const ended = await call(broker.url, `/v1/sessions/${sessionId}`, { method: "DELETE", token });
    expect(ended.status).toBe(204);
    expect((await mySessions()).map((session) => session.id)).not.toContain(sessionId);
    await waitFor(async () => !isAlive(pid), 5_000, "the demo desktop to exit");
  });

  it("ends the desktops its agents left running when the cluster stops, and starts again on the broker's kept state", async () => {
    const started = await start();
    expect(started.status).toBe(201);
    const pid = desktopPid(started.body.serverId, started.body.sessionId);
    expect(isAlive(pid)).toBe(true);
    await cluster.stop();
    await waitFor(async () => !isAlive(pid), 5_000, "the demo desktop to exit");

    // Enrolment never replaces a node: a second run removes the first run's demo nodes itself.
    const before = new Set(cluster.agents.map((agent) => agent.serverId));
    cluster = await startDemoCluster(broker, { dir: workDir, intervalMs: INTERVAL_MS });
    expect(cluster.agents.map((agent) => agent.hostname)).toEqual(["demo-1", "demo-2", "demo-3"]);
    expect(cluster.agents.some((agent) => before.has(agent.serverId))).toBe(false);
    token = await signIn(broker, "alice", cluster.users.find((user) => user.login === "alice")?.password ?? "");
    const fresh = await start();
    expect(fresh.status).toBe(201);
    expect(fresh.body).toMatchObject({ state: "running", resumed: false });
  });
});
