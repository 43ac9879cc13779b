import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { closeOf, ended, mintAssertion, nextMessage, open, openLogged, startTcpEndpoint, startTestGateway, track } from "./helpers.ts";

const ALICE = { login: "alice", sessionId: "ses_alice_1" };

/** A port nothing listens on: bound once, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

/** A `ws` server as a session's own WebSocket endpoint; it selects the subprotocol `rfb` when offered. */
async function startWsEndpoint(onConnection: (ws: WebSocket) => void) {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, handleProtocols: (offered) => (offered.has("rfb") ? "rfb" : false) });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  server.on("connection", (ws) => {
    ws.on("error", () => undefined);
    onConnection(ws);
  });
  track(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { endpoint: { kind: "ws" as const, url: `ws://127.0.0.1:${port}/session` } };
}

describe("gateway: when either side ends, the other is closed with a code and a reason", () => {
  it("endpoint closes normally: the client gets everything sent before, then 1001 'session ended'", async () => {
    const endpoint = await startTcpEndpoint((socket) => socket.end(Buffer.from("RFB 003.008\n")));
    const { url } = await startTestGateway({ "*": endpoint.endpoint });
    const { ws, received } = await openLogged(url, await mintAssertion(ALICE), ["binary"]);
    expect(await closeOf(ws)).toEqual({ code: 1001, reason: "session ended" });
    expect(Buffer.concat(received).toString()).toBe("RFB 003.008\n");
  });

  it("endpoint resets: 1011 with the cause", async () => {
    const endpoint = await startTcpEndpoint();
    const { url } = await startTestGateway({ "*": endpoint.endpoint });
    const ws = await open(url, await mintAssertion(ALICE));
    const socket = await endpoint.nextConnection();
    const closed = closeOf(ws);
    socket.resetAndDestroy();
    expect(await closed).toEqual({ code: 1011, reason: "session endpoint failed: ECONNRESET" });
  });

  it("endpoint unreachable: the upgrade completes and the client reads 1011 with the cause", async () => {
    const port = await deadPort();
    const { url, gateway } = await startTestGateway({ "*": { kind: "tcp", host: "127.0.0.1", port } });
    const ws = await open(url, await mintAssertion(ALICE), ["binary"]);
    expect(await closeOf(ws)).toEqual({ code: 1011, reason: "session endpoint unreachable: ECONNREFUSED" });
    expect(gateway.connections.size).toBe(0);
  });

  it("client closes: the endpoint's socket is ended and the connection leaves the registry", async () => {
    const endpoint = await startTcpEndpoint(() => undefined);
    const { url, gateway } = await startTestGateway({ "*": endpoint.endpoint });
    const ws = await open(url, await mintAssertion(ALICE));
    const socket = await endpoint.nextConnection();
    ws.close(1000, "bye");
    await ended(socket);
    await expect.poll(() => gateway.connections.size).toBe(0);
  });

  it("client vanishes without a close: the endpoint's socket is ended too", async () => {
    const endpoint = await startTcpEndpoint(() => undefined);
    const { url } = await startTestGateway({ "*": endpoint.endpoint });
    const ws = await open(url, await mintAssertion(ALICE));
    const socket = await endpoint.nextConnection();
    ws.terminate();
    await ended(socket);
  });

  it("a Unix socket endpoint is bridged like TCP", async () => {
    const path = `/tmp/gateway-test-${process.pid}-${Date.now()}.sock`;
    const server = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    track(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { url } = await startTestGateway({ "*": { kind: "unix", path } });
    const ws = await open(url, await mintAssertion(ALICE), ["binary"]);
    const answer = nextMessage(ws);
    ws.send(Buffer.from("over a unix socket"));
    expect((await answer).data.toString()).toBe("over a unix socket");
  });
});

describe("gateway: WebSocket pass-through to a session's own WebSocket endpoint", () => {
  it("passes text and binary messages both ways and the subprotocol the endpoint chose", async () => {
    const upstream = await startWsEndpoint((ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
    const { url } = await startTestGateway({ "*": upstream.endpoint });
    const ws = await open(url, await mintAssertion(ALICE), ["chat", "rfb"]);
    expect(ws.protocol).toBe("rfb");
    const text = nextMessage(ws);
    ws.send("hello");
    expect(await text).toMatchObject({ isBinary: false });
    const binary = nextMessage(ws);
    ws.send(Buffer.from([1, 2, 3]));
    expect(await binary).toEqual({ data: Buffer.from([1, 2, 3]), isBinary: true });
  });

  it("the endpoint's close code and reason reach the client; a close without a code is 1001", async () => {
    const upstream = await startWsEndpoint((ws) => ws.on("message", (data) => (data.toString() === "quit" ? ws.close(4321, "desktop logged out") : ws.close())));
    const { url } = await startTestGateway({ "*": upstream.endpoint });
    const first = await open(url, await mintAssertion(ALICE));
    const firstClosed = closeOf(first);
    first.send("quit");
    expect(await firstClosed).toEqual({ code: 4321, reason: "desktop logged out" });
    const second = await open(url, await mintAssertion(ALICE));
    const secondClosed = closeOf(second);
    second.send("anything");
    expect(await secondClosed).toEqual({ code: 1001, reason: "session ended" });
  });

  it("the endpoint vanishing gives 1011; the client's close reaches the endpoint", async () => {
    const seen: Array<{ code: number; reason: string }> = [];
    const upstream = await startWsEndpoint((ws) => {
      ws.on("close", (code, reason) => seen.push({ code, reason: reason.toString() }));
      ws.on("message", (data) => data.toString() === "die" && ws.terminate());
    });
    const { url } = await startTestGateway({ "*": upstream.endpoint });
    const dying = await open(url, await mintAssertion(ALICE));
    const dyingClosed = closeOf(dying);
    dying.send("die");
    expect(await dyingClosed).toMatchObject({ code: 1011 });
    const leaving = await open(url, await mintAssertion(ALICE));
    leaving.close(1000, "user left");
    await expect.poll(() => seen.at(-1)).toEqual({ code: 1000, reason: "user left" });
  });

  it("a WebSocket endpoint that refuses the upgrade: 1011 with its answer", async () => {
    const { url } = await startTestGateway({ "*": { kind: "ws", url: `ws://127.0.0.1:${await deadPort()}/x` } });
    const ws = await open(url, await mintAssertion(ALICE), ["rfb"]);
    expect(await closeOf(ws)).toMatchObject({ code: 1011, reason: expect.stringMatching(/^session endpoint unreachable: .*ECONNREFUSED/) });
  });
});
