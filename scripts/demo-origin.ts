/**
 * A stand-in desktop endpoint for `npm start`'s demo nodes: a WebSocket server on loopback that
 * greets each relayed connection with who the broker says it is for, then echoes. Real nodes
 * run websockify (noVNC) or another desktop endpoint here instead.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

export interface DemoOrigin {
  url: string;
  close(): Promise<void>;
}

export async function startDemoOrigin(hostname: string): Promise<DemoOrigin> {
  const server: Server = createServer((_request, response) => {
    response.writeHead(426, { "Content-Type": "text/plain" }).end("this demo desktop speaks WebSocket only\n");
  });
  const sockets = new WebSocketServer({ server });
  sockets.on("connection", (socket, request) => {
    const user = request.headers["x-broker-user"] ?? "unknown";
    const session = request.headers["x-broker-session"] ?? "unknown";
    socket.send(`demo desktop ${hostname}: hello ${String(user)} (session ${String(session)}); I echo what you send`);
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.close(() => resolve());
      }),
  };
}
