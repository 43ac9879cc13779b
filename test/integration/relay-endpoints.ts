/**
 * Both ends of a relayed connection for the relay's integration tests, on loopback: a desktop
 * endpoint stand-in that greets with its name, echoes, and picks subprotocols as websockify
 * does (`binary` when offered, else none), recording what each upgrade offered it; and a `ws`
 * client that opens the relay and reports the subprotocol of the 101, or the refusal.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";

export interface TestOrigin {
  name: string;
  url: string;
  /** Per upgrade that reached this origin: its `Sec-WebSocket-Protocol` header (null: none). */
  offered: Array<string | null>;
  close(): Promise<void>;
}

export async function startOrigin(name: string): Promise<TestOrigin> {
  const offered: Array<string | null> = [];
  const server: Server = createServer((_request, response) => response.writeHead(426).end());
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (request) => offered.push(request.headers["sec-websocket-protocol"] ?? null));
  const wss = new WebSocketServer({ server, handleProtocols: (protocols) => (protocols.has("binary") ? "binary" : false) });
  wss.on("connection", (socket) => {
    socket.send(`origin ${name}`);
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${port}/`,
    offered,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        wss.close();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL where nothing listens (the port was just free): an origin as dead as a lost tunnel. */
export async function deadOriginUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/`;
}

export type RelayOutcome =
  /** The relay opened: the subprotocol of the 101 ("" for none) and the origin's greeting. */
  | { kind: "open"; protocol: string; greeting: string; socket: WebSocket }
  /** The broker answered the upgrade with an HTTP error. */
  | { kind: "refused"; status: number; body: string }
  /** The client gave up on the handshake (e.g. `ws`: "Server sent no subprotocol"). */
  | { kind: "failed"; message: string };

/** Opens `url` offering `protocols`, with extra request headers; waits for the greeting or the refusal. */
export function openRelayed(url: string, protocols: string[] = [], headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<RelayOutcome> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, protocols, { headers });
    const timer = setTimeout(() => {
      socket.terminate();
      resolve({ kind: "failed", message: `no greeting within ${timeoutMs} ms` });
    }, timeoutMs);
    const settle = (outcome: RelayOutcome) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    socket.once("message", (data) => settle({ kind: "open", protocol: socket.protocol, greeting: data.toString(), socket }));
    socket.on("error", (error) => settle({ kind: "failed", message: error.message }));
    socket.on("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => {
        settle({ kind: "refused", status: response.statusCode ?? 0, body });
        socket.terminate();
      });
    });
  });
}

/** Sends `text` and waits for its echo. */
export function echo(socket: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once("message", (data) => resolve(data.toString()));
    socket.send(text);
  });
}
