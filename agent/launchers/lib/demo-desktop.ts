/**
 * The demo desktop (the `demo` launcher starts one per session): a WebSocket server on loopback.
 * A client offering the `binary` subprotocol (noVNC, as the portal's desktop page) gets a real
 * RFB desktop (demo-rfb.ts); any other is greeted with its user's name and echoed (`npm run
 * demo:connect`). Connections are counted across both, so a resumed session shows "connection 2".
 * It reports its port on fd 3, then lives until SIGTERM or `lifetimeMs`. Only npm's packages:
 * Node and `ws`.
 *
 * Usage: demo-desktop.ts LOGIN SESSION_ID HOSTNAME LIFETIME_MS
 */
import { createWriteStream } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { serveDemoDesktop } from "./demo-rfb.ts";

/** The subprotocol websockify selects for binary RFB; the node gateway passes the client's offer through. */
const BINARY_PROTOCOL = "binary";

const [login = "unknown", sessionId = "unknown", hostname = "this node", lifetimeText = "28800000"] = process.argv.slice(2);
const startedAt = new Date();
let connections = 0;

const server = createServer((_request, response) => {
  response.writeHead(426, { "Content-Type": "text/plain" }).end("this demo desktop speaks WebSocket only\n");
});
const sockets = new WebSocketServer({
  server,
  maxPayload: 64 * 1024,
  handleProtocols: (offered) => (offered.has(BINARY_PROTOCOL) ? BINARY_PROTOCOL : false),
});
sockets.on("connection", (socket) => {
  connections++;
  if (socket.protocol === BINARY_PROTOCOL) {
    serveDemoDesktop(socket, { hostname, user: login, sessionId, connection: connections });
    return;
  }
  socket.send(`demo desktop on ${hostname}: hello ${login} (session ${sessionId}); connection ${connections} to this desktop, up since ${startedAt.toISOString()}; I echo what you send`);
  socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
});

const exit = () => {
  for (const client of sockets.clients) client.close(1001, "demo desktop ended");
  server.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.once("SIGTERM", exit);
process.once("SIGINT", exit);
setTimeout(exit, Number(lifetimeText)).unref();

server.listen(0, "127.0.0.1", () => {
  const report = createWriteStream("", { fd: 3 });
  report.end(`${(server.address() as AddressInfo).port}\n`);
});
