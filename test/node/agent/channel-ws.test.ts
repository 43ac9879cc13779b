/** `openWsSocket` against a real `ws` server on loopback: headers, frames, closes, refusals and the size bound. */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { UpgradeRefused } from "../../../agent/channel/socket.ts";
import { openWsSocket } from "../../../agent/channel/ws-socket.ts";
import { MAX_CHANNEL_MESSAGE_BYTES } from "../../../src/channel-protocol.ts";

const servers: Server[] = [];
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** An HTTP server on loopback whose upgrades `refuse` may answer; the others become WebSockets for `onSocket`. */
async function broker(options: { hang?: boolean; refuse?: (headers: Record<string, string | string[] | undefined>) => { status: number; body: string } | null; onSocket?: (socket: import("ws").WebSocket, authorization: string) => void }) {
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (request, socket, head) => {
    if (options.hang) return;
    const refusal = options.refuse?.(request.headers);
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(refusal.body)}\r\nConnection: close\r\n\r\n${refusal.body}`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => options.onSocket?.(ws, String(request.headers.authorization ?? "")));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/agent/channel`;
}

function recorder() {
  const messages: Array<string | Uint8Array> = [];
  let closed: (value: { code: number; reason: string }) => void = () => undefined;
  const closing = new Promise<{ code: number; reason: string }>((resolve) => (closed = resolve));
  return { messages, closing, events: { message: (data: string | Uint8Array) => messages.push(data), close: (code: number, reason: string) => closed({ code, reason }) } };
}

describe("openWsSocket", () => {
  it("sends the headers, carries text both ways, and reports the broker's close with its code and reason", async () => {
    let seen = "";
    const url = await broker({
      onSocket: (ws, authorization) => {
        seen = authorization;
        ws.on("message", (data) => {
          ws.send(`echo ${String(data)}`);
          ws.close(4002, "node removed");
        });
      },
    });
    const events = recorder();
    const socket = await openWsSocket(url, { Authorization: "Bearer t0ken" }, events.events, AbortSignal.timeout(5000));
    socket.send("hello");
    expect(await events.closing).toEqual({ code: 4002, reason: "node removed" });
    expect(events.messages).toEqual(["echo hello"]);
    expect(seen).toBe("Bearer t0ken");
  });

  it("rejects with the broker's error envelope when it refuses the upgrade", async () => {
    const url = await broker({ refuse: () => ({ status: 401, body: JSON.stringify({ error: { code: "UNAUTHORIZED", message: "authentication required or invalid" } }) }) });
    const refusal = openWsSocket(url, {}, recorder().events, AbortSignal.timeout(5000));
    await expect(refusal).rejects.toBeInstanceOf(UpgradeRefused);
    await expect(refusal).rejects.toMatchObject({ status: 401, code: "UNAUTHORIZED" });
  });

  it("rejects with the status alone when the refusal is not the broker's envelope", async () => {
    const url = await broker({ refuse: () => ({ status: 502, body: "<html>bad gateway</html>" }) });
    await expect(openWsSocket(url, {}, recorder().events, AbortSignal.timeout(5000))).rejects.toMatchObject({ status: 502, code: "HTTP_502" });
  });

  it("rejects when nothing listens, and when aborted", async () => {
    const url = await broker({});
    const port = new URL(url).port;
    await new Promise((resolve) => servers.pop()?.close(resolve));
    await expect(openWsSocket(`http://127.0.0.1:${port}/`, {}, recorder().events, AbortSignal.timeout(5000))).rejects.toThrow(/ECONNREFUSED/);
    const hanging = await broker({ hang: true });
    await expect(openWsSocket(hanging, {}, recorder().events, AbortSignal.timeout(100))).rejects.toThrow();
    const controller = new AbortController();
    controller.abort(new Error("agent is shutting down"));
    await expect(openWsSocket(hanging, {}, recorder().events, controller.signal)).rejects.toThrow("agent is shutting down");
  });

  it(`closes with 1009 when the broker sends a frame above ${MAX_CHANNEL_MESSAGE_BYTES} bytes`, async () => {
    let brokerSaw: (code: number) => void = () => undefined;
    const closeCode = new Promise<number>((resolve) => (brokerSaw = resolve));
    const url = await broker({
      onSocket: (ws) => {
        ws.on("close", (code) => brokerSaw(code));
        ws.send("x".repeat(MAX_CHANNEL_MESSAGE_BYTES + 1));
      },
    });
    const events = recorder();
    await openWsSocket(url, {}, events.events, AbortSignal.timeout(5000));
    expect(await closeCode).toBe(1009);
    await events.closing;
    expect(events.messages).toEqual([]);
  });
});
