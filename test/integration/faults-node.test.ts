/**
 * Node faults seen through the relay, with the local broker (test/harness), real agents and
 * WebSocket origins in this process (loopback only), heartbeat interval 1 s (down after 3 s):
 * - a node that stops mid-session: its agent killed and its desktop endpoint gone;
 * - a node that stops just before a client connects: the relay re-selects at once;
 * - an origin that accepts TCP and then hangs: bounded by the relay's connect timeout, then
 *   re-selected.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { type AgentHandle, enrolAgent } from "../harness/agents.ts";
import { type LocalBroker, scratchBrokerOptions, startBroker } from "../harness/broker.ts";
import { adminCall, listServers } from "../harness/client.ts";
import { waitFor } from "../harness/wait.ts";
import { MISSED_BEATS_BEFORE_DOWN } from "../../src/protocol.ts";
import { ORIGIN_CONNECT_TIMEOUT_MS } from "../../src/relay/relay.ts";

const INTERVAL_MS = 1000;
/** Down after MISSED_BEATS_BEFORE_DOWN intervals; the alarm and our polling add up to about a second. */
const DOWN_WITHIN_MS = MISSED_BEATS_BEFORE_DOWN * INTERVAL_MS + 1500;
const USER = { login: "fault-user", password: "fault-password-123" };


interface Origin {
  url: string;
  /** The node stops: every connection dropped at the TCP level, the port closed. */
  kill(): Promise<void>;
  /** Closes the open WebSocket connections with a close frame (a node shutting down in order). */
  closeAll(code: number, reason: string): void;
  close(): Promise<void>;
}

/** A desktop endpoint stand-in: greets with its name, then echoes. */
async function startOrigin(name: string): Promise<Origin> {
  const server: Server = createHttpServer((_request, response) => response.writeHead(426).end());
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (socket) => {
    socket.send(`origin ${name}`);
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      wss.close();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}/`,
    kill: close,
    closeAll: (code, reason) => {
      for (const client of wss.clients) client.close(code, reason);
    },
    close,
  };
}

/** Accepts TCP connections and never answers (a wedged desktop endpoint). */
async function startHangingOrigin(): Promise<{ url: string; accepted: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    accepted: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Relayed {
  socket: WebSocket;
  greeting: string;
  openedAfterMs: number;
  closed: Promise<{ code: number; reason: string; afterMs: number }>;
}

/** Opens the relay with the ticket and waits for the origin's greeting. */
function connect(relay: { url: string; ticket: string }, timeoutMs = 15_000): Promise<Relayed> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${relay.url}?ticket=${encodeURIComponent(relay.ticket)}`);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no greeting within ${timeoutMs} ms`));
    }, timeoutMs);
    const closed = new Promise<{ code: number; reason: string; afterMs: number }>((resolveClosed) => {
      socket.on("close", (code, reason) => resolveClosed({ code, reason: reason.toString(), afterMs: Date.now() }));
    });
    socket.once("message", (data) => {
      clearTimeout(timer);
      resolve({ socket, greeting: data.toString(), openedAfterMs: Date.now() - started, closed });
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("unexpected-response", (_request, response) => {
      clearTimeout(timer);
      reject(new Error(`relay answered ${response.statusCode}`));
    });
  });
}

function echo(socket: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once("message", (data) => resolve(data.toString()));
    socket.send(text);
  });
}

let workDir: string;
let broker: LocalBroker;
let token: string;
const agents = new Map<string, AgentHandle>();
const origins = new Map<string, Origin>();
let hanging: Awaited<ReturnType<typeof startHangingOrigin>>;

async function startSession(profileId: string): Promise<{ serverId: string; sessionId: string; relay: { url: string; ticket: string } }> {
  const response = await fetch(`${broker.url}/v1/sessions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ profileId }),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`start ${profileId}: ${response.status} ${text}`);
  return JSON.parse(text) as { serverId: string; sessionId: string; relay: { url: string; ticket: string } };
}

const serverIdOf = (name: string) => (agents.get(name) as AgentHandle).serverId;
const statusOf = async (name: string) => (await listServers(broker)).find((server) => server.serverId === serverIdOf(name))?.status;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "broker-faults-node-"));
  broker = await startBroker(await scratchBrokerOptions(workDir));
  await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs: INTERVAL_MS });
  for (const name of ["node-a", "node-b", "node-c"]) origins.set(name, await startOrigin(name));
  hanging = await startHangingOrigin();
  // node-b is the healthy fallback and starts out the busiest (others' sessions), so the
  // least-loaded chain deterministically prefers the node under test in each profile.
  const others = [1, 2, 3].map((index) => ({ id: `other-${index}`, user: `other-${index}`, state: "running", startedAt: 1_700_000_000_000 }));
  for (const name of ["node-a", "node-b", "node-c", "node-d"]) {
    const agent = await enrolAgent(broker, {
      hostname: name,
      dir: join(workDir, name),
      staticData: {},
      sessions: name === "node-b" ? others : [],
      originUrl: name === "node-d" ? hanging.url : (origins.get(name) as Origin).url,
      logFile: join(workDir, `${name}.log`),
    });
    agents.set(name, agent);
    agent.start();
  }
  // The tests start many sessions as one user on origins that never report them: the per-user limit is raised.
  await adminCall(broker, "/v1/admin/profiles", "POST", { maxSessionsPerUser: 100, id: "pb", name: "node-b", pool: "default", mode: "relay", hosts: [{ name: "node-b" }], acl: {} });
  for (const victim of ["a", "c", "d"]) {
    await adminCall(broker, "/v1/admin/profiles", "POST", { maxSessionsPerUser: 100, id: `p${victim}`, name: `node-${victim} or b`, pool: "default", mode: "relay", hosts: [{ name: `node-${victim}` }, { name: "node-b" }], acl: {} });
  }
  await adminCall(broker, "/v1/admin/users", "POST", { ...USER, groups: [] });
  const signedIn = await fetch(`${broker.url}/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(USER) });
  token = ((await signedIn.json()) as { token: string }).token;
  await waitFor(async () => (await listServers(broker)).every((server) => server.status === "up"), 15_000, "four up servers");
});

afterAll(async () => {
  await Promise.all([...agents.values()].map((agent) => agent.stop("SIGKILL")));
  await broker?.stop();
  await Promise.all([...origins.values()].map((origin) => origin.close()));
  await hanging?.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe("a node that stops mid-session", () => {
  it("passes an orderly close code from the node through to the client", async () => {
    // node-b holds a session; its desktop endpoint shuts down in order (1001 going away).
    const onB = await startSession("pb");
    expect(onB.serverId).toBe(serverIdOf("node-b"));
    const relayed = await connect(onB.relay);
    expect(relayed.greeting).toBe("origin node-b");
    (origins.get("node-b") as Origin).closeAll(1001, "desktop shutting down");
    const closed = await relayed.closed;
    expect({ code: closed.code, reason: closed.reason }).toEqual({ code: 1001, reason: "desktop shutting down" });
  });

  it("closes the relayed client when the node dies, marks the node down within its TTL, and never selects it while down", async () => {
    const answer = await startSession("pa");
    expect(answer.serverId).toBe(serverIdOf("node-a"));
    const relayed = await connect(answer.relay);
    expect(relayed.greeting).toBe("origin node-a");
    expect(await echo(relayed.socket, "ping")).toBe("ping");

    const killedAt = Date.now();
    await Promise.all([(agents.get("node-a") as AgentHandle).stop("SIGKILL"), (origins.get("node-a") as Origin).kill()]);
    const closed = await relayed.closed;
    // The relay is a pass-through (no JavaScript per frame): when the node's TCP connection dies,
    // workerd drops the client's without a close frame, which the client sees as 1006. An
    // orderly close from the node passes through with its own code (the test above).
    console.log(`relayed client closed ${closed.afterMs - killedAt} ms after the node died: code ${closed.code} ${JSON.stringify(closed.reason)}`);
    expect(closed.afterMs - killedAt).toBeLessThan(2000);
    expect([1001, 1006, 1011, 1012]).toContain(closed.code);

    await waitFor(async () => (await statusOf("node-a")) === "down", DOWN_WITHIN_MS, "node-a to go down");
    const downAfterMs = Date.now() - killedAt;
    console.log(`node-a down ${downAfterMs} ms after it stopped (TTL ${MISSED_BEATS_BEFORE_DOWN} × ${INTERVAL_MS} ms)`);
    expect(downAfterMs).toBeLessThanOrEqual(DOWN_WITHIN_MS);

    for (let index = 0; index < 8; index++) {
      const next = await startSession("pa");
      expect(next.serverId).toBe(serverIdOf("node-b"));
    }
  });
});

describe("a node that stops just before the client connects", () => {
  it("is re-selected away from at once, and not selected again", async () => {
    await Promise.all([(agents.get("node-c") as AgentHandle).stop("SIGKILL"), (origins.get("node-c") as Origin).kill()]);
    const killedAt = Date.now();
    // Within its TTL the broker still counts node-c up and places the session there ...
    const answer = await startSession("pc");
    expect(answer.serverId).toBe(serverIdOf("node-c"));
    // ... but the relay cannot reach it, marks it down, and places the session on node-b.
    const relayed = await connect(answer.relay);
    expect(relayed.greeting).toBe("origin node-b");
    relayed.socket.close();
    expect(await statusOf("node-c")).toBe("down");
    expect(Date.now() - killedAt).toBeLessThan(MISSED_BEATS_BEFORE_DOWN * INTERVAL_MS);
    for (let index = 0; index < 5; index++) expect((await startSession("pc")).serverId).toBe(serverIdOf("node-b"));
  });
});

describe("an origin that accepts TCP and then hangs", () => {
  it(`is given up after the connect timeout (${ORIGIN_CONNECT_TIMEOUT_MS} ms) and the session re-placed`, async () => {
    const answer = await startSession("pd");
    expect(answer.serverId).toBe(serverIdOf("node-d"));
    const acceptedBefore = hanging.accepted();
    const relayed = await connect(answer.relay, ORIGIN_CONNECT_TIMEOUT_MS + 10_000);
    console.log(`hanging origin: relayed to a healthy node after ${relayed.openedAfterMs} ms`);
    expect(hanging.accepted()).toBeGreaterThan(acceptedBefore);
    expect(relayed.greeting).toBe("origin node-b");
    expect(relayed.openedAfterMs).toBeGreaterThanOrEqual(ORIGIN_CONNECT_TIMEOUT_MS - 100);
    expect(relayed.openedAfterMs).toBeLessThan(ORIGIN_CONNECT_TIMEOUT_MS + 3000);
    expect(await echo(relayed.socket, "still there")).toBe("still there");
    relayed.socket.close();
  });
});
