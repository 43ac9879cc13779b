/**
 * Local TCP ports the helper opens (`forward --listen`, the X2Go endpoint, the ports it opens on
 * demand for X2Go's SSH): loopback only, at most MAX_CONNECTIONS at once, and, on Linux, only for
 * connections from the helper's own OS user (peer-user.ts), since whatever comes in goes on as
 * the signed-in user.
 */
import { createServer, isIPv4, type Server, type Socket } from "node:net";
import { peerIsSameUser } from "./peer-user.ts";

export const MAX_CONNECTIONS = 64;

export interface ListenAddress {
  host: string;
  port: number;
}

/** `127.x.x.x:PORT` or `[::1]:PORT` (port 0: any free one); null for anything else. */
export function parseListenAddress(text: string): ListenAddress | null {
  const match = /^(?:\[(::1)\]|(\d+\.\d+\.\d+\.\d+)):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const host = match[1] ?? match[2] ?? "";
  const port = Number(match[3]);
  if (port > 65_535) return null;
  if (host !== "::1" && !(isIPv4(host) && host.startsWith("127."))) return null;
  return { host, port };
}

export function formatAddress(address: ListenAddress): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export interface LocalListener {
  address: ListenAddress;
  /** Connections open now. */
  readonly active: number;
  close(): Promise<void>;
}

export interface ListenerDeps {
  log: (line: string) => void;
  /** Checks the peer's OS user (default: peerIsSameUser). */
  checkPeer?: (socket: Socket) => Promise<boolean>;
}

/** Listens on `at`; each admitted connection is handed to `onConnection` (which owns it from then on). */
export function listenLocal(at: ListenAddress, onConnection: (socket: Socket) => void, deps: ListenerDeps): Promise<LocalListener> {
  const sockets = new Set<Socket>();
  const checkPeer = deps.checkPeer ?? peerIsSameUser;
  const server: Server = createServer({ pauseOnConnect: true }, (socket) => {
    socket.on("error", () => undefined);
    if (sockets.size >= MAX_CONNECTIONS) {
      deps.log(`edge-desktop: refused a connection on ${formatAddress(at)}: ${MAX_CONNECTIONS} open already`);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    checkPeer(socket).then(
      (same) => {
        if (!same) {
          deps.log(`edge-desktop: refused a connection on ${formatAddress(at)} from another user's process`);
          socket.destroy();
          return;
        }
        onConnection(socket);
      },
      () => socket.destroy(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${formatAddress(at)}: ${error.code ?? error.message}`)));
    server.listen({ host: at.host, port: at.port }, () => {
      const bound = server.address();
      const address = { host: at.host, port: typeof bound === "object" && bound ? bound.port : at.port };
      resolve({
        address,
        get active() {
          return sockets.size;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
