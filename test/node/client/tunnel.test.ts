/**
 * The helper's tunnel WebSocket (client/tunnel.ts) against a plain HTTP server: bytes the far side
 * sends at once (an SSH server's banner) reach the local stream even when they arrive in the same
 * TCP segment as the 101 answer. x2goclient's libssh failed with "too large banner" in CI when
 * that first message was dropped between the WebSocket's open and the join.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Duplex, PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { joinTunnel, openTicket } from "../../../client/tunnel.ts";

const servers: Server[] = [];
const sockets: Duplex[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** An unmasked binary frame, as a server sends it (payload under 126 bytes). */
const binaryFrame = (payload: Buffer) => Buffer.concat([Buffer.from([0x82, payload.length]), payload]);
const closeFrame = (code: number) => Buffer.from([0x88, 2, code >> 8, code & 0xff]);

/** A server whose 101 answer carries `frames` in the same write; the client's close frame ends it. */
async function serverSendingWithTheUpgrade(frames: Buffer[]): Promise<string> {
  const server = createServer((_request, response) => response.writeHead(404).end());
  server.on("upgrade", (request, socket) => {
    const accept = createHash("sha1").update(`${request.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
    const head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: binary\r\n\r\n`;
    sockets.push(socket);
    socket.on("error", () => undefined);
    socket.on("data", () => socket.end());
    socket.write(Buffer.concat([Buffer.from(head), ...frames]));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe("tunnel WebSocket", () => {
  it("keeps a message that arrives with the 101 answer", async () => {
    const banner = Buffer.from("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n");
    const url = await serverSendingWithTheUpgrade([binaryFrame(banner)]);
    const tunnel = await openTicket(url, "broker-ticket.t");
    const output = new PassThrough();
    const received: Buffer[] = [];
    output.on("data", (chunk: Buffer) => received.push(chunk));
    void joinTunnel(tunnel, new PassThrough(), output);
    await expect.poll(() => Buffer.concat(received).toString("latin1")).toBe(banner.toString("latin1"));
    tunnel.ws.terminate();
  });

  it("keeps a close that arrives with the 101 answer, and the bytes before it", async () => {
    const url = await serverSendingWithTheUpgrade([binaryFrame(Buffer.from("bye\n")), closeFrame(1011)]);
    const tunnel = await openTicket(url, "broker-ticket.t");
    const output = new PassThrough();
    const received: Buffer[] = [];
    output.on("data", (chunk: Buffer) => received.push(chunk));
    const end = await joinTunnel(tunnel, new PassThrough(), output);
    expect(end.code).toBe(1011);
    expect(Buffer.concat(received).toString("latin1")).toBe("bye\n");
  });
});
