/**
 * The demo "desktop" (the `demo` launcher starts one per session): a WebSocket server on
 * loopback that greets each connection with its user's name and counts connections, so a resumed
 * session shows "connection 2", and echoes what it receives. It reports its port on fd 3, then
 * lives until SIGTERM or `lifetimeMs`. Only npm's packages: Node and `ws`.
 *
 * Usage: demo-desktop.ts LOGIN SESSION_ID HOSTNAME LIFETIME_MS
 */
import { createWriteStream } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

const [login = "unknown", sessionId = "unknown", hostname = "this node", lifetimeText = "28800000"] = process.argv.slice(2);
const startedAt = new Date();
let connections = 0;

const server = createServer((_request, response) => {
  response.writeHead(426, { "Content-Type": "text/plain" }).end("this demo desktop speaks WebSocket only\n");
});
const sockets = new WebSocketServer({ server, maxPayload: 64 * 1024 });
sockets.on("connection", (socket) => {
  connections++;
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
