/**
 * A stand-in desktop endpoint for `npm start`'s demo nodes, on loopback. A WebSocket client that
 * offers the `binary` subprotocol (noVNC, as the portal's desktop page does) gets a real RFB
 * desktop (agent/launchers/lib/demo-rfb.ts); any other is greeted with who the broker says it is for, then
 * echoed (`npm run demo:connect`). Like a real node it keeps the sessions it serves and reports
 * them through the agent's session file: a new session (the broker's `rsv_` reservation) gets a
 * name of its own, runs while connected and is suspended when its last connection closes. Real
 * nodes run websockify (noVNC) or another desktop endpoint here instead.
 */
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { serveDemoDesktop } from "../agent/launchers/lib/demo-rfb.ts";

export interface DemoOrigin {
  url: string;
  close(): Promise<void>;
}

export interface DemoSession {
  id: string;
  user: string;
  state: "running" | "suspended";
  startedAt: number;
}

export interface DemoOriginOptions {
  /** The agent's session file (`{ "sessions": [...] }`), rewritten as sessions start, connect and disconnect. */
  sessionsFile?: string;
  /** Sessions the node holds already. */
  sessions?: DemoSession[];
}

export async function startDemoOrigin(hostname: string, options: DemoOriginOptions = {}): Promise<DemoOrigin> {
  const sessions = new Map((options.sessions ?? []).map((session) => [session.id, { ...session, live: 0, connections: 0 }]));
  let named = 0;
  const report = () => {
    if (!options.sessionsFile) return;
    const listed = [...sessions.values()].map(({ id, user, startedAt, live }) => ({ id, user, state: live > 0 ? "running" : "suspended", startedAt }));
    writeFileSync(options.sessionsFile, JSON.stringify({ sessions: listed }));
  };
  const server: Server = createServer((_request, response) => {
    response.writeHead(426, { "Content-Type": "text/plain" }).end("this demo desktop speaks WebSocket only\n");
  });
  const sockets = new WebSocketServer({ server, handleProtocols: (offered) => (offered.has("binary") ? "binary" : false) });
  sockets.on("connection", (socket, request) => {
    const user = String(request.headers["x-broker-user"] ?? "unknown");
    const asked = String(request.headers["x-broker-session"] ?? "unknown");
    if (socket.protocol !== "binary") {
      socket.send(`demo desktop ${hostname}: hello ${user} (session ${asked}); I echo what you send`);
      socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
      return;
    }
    const id = asked.startsWith("rsv_") || !sessions.has(asked) ? `${hostname}-${user}-${++named}` : asked;
    const session = sessions.get(id) ?? { id, user, state: "running" as const, startedAt: Date.now(), live: 0, connections: 0 };
    sessions.set(id, session);
    session.live++;
    session.connections++;
    report();
    socket.on("close", () => {
      session.live--;
      report();
    });
    serveDemoDesktop(socket, { hostname, user, sessionId: id, connection: session.connections });
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
