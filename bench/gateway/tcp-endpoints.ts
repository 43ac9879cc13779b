/**
 * The session endpoints of the gateway bench, run as a child process (`fork`) so the client, the
 * server under test and these have each their own process and event loop. Two TCP servers on
 * 127.0.0.1: an echo (what a VNC server does with the bench's frames: answer them, with TCP's own
 * backpressure), and a flood that pushes 64 KiB chunks at every connection as fast as its socket
 * takes them (at most 1 MiB queued in this process) for `maxMs` or `maxBytes`, then reports over
 * IPC how many bytes the kernel accepted. Exits when the parent says so or goes away.
 */
import { createServer, type Server, type Socket } from "node:net";

export type TcpEndpointsMessage =
  | { type: "listening"; echoPort: number; floodPort: number }
  | { type: "flood"; acceptedBytes: number; acceptedAtHalfBytes: number; ms: number };

const CHUNK = Buffer.alloc(64 * 1024, 0x5a);
const MAX_QUEUED_BYTES = 1024 * 1024;
const [maxBytes, maxMs] = [Number(process.argv[2]), Number(process.argv[3])];

function report(message: TcpEndpointsMessage): void {
  process.send?.(message);
}

function flood(socket: Socket): void {
  const started = performance.now();
  let queued = 0;
  let accepted = 0;
  let acceptedAtHalf = -1;
  let done = false;
  const pump = () => {
    while (!done && !socket.destroyed && queued - accepted < MAX_QUEUED_BYTES && queued < maxBytes) {
      queued += CHUNK.length;
      socket.write(CHUNK, (error) => {
        if (error || done) return;
        accepted += CHUNK.length;
        pump();
      });
    }
  };
  const half = setTimeout(() => (acceptedAtHalf = accepted), maxMs / 2);
  setTimeout(() => {
    done = true;
    clearTimeout(half);
    report({ type: "flood", acceptedBytes: accepted, acceptedAtHalfBytes: acceptedAtHalf < 0 ? accepted : acceptedAtHalf, ms: performance.now() - started });
  }, maxMs);
  pump();
}

const sockets = new Set<Socket>();
function serve(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
    onConnection(socket);
  });
  return new Promise((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0, backlog: 1024 }, () => {
      const address = server.address();
      resolve({ server, port: typeof address === "object" && address ? address.port : 0 });
    }),
  );
}

const echo = await serve((socket) => socket.pipe(socket));
const floods = await serve(flood);
report({ type: "listening", echoPort: echo.port, floodPort: floods.port });
process.on("message", (message) => {
  if (message !== "stop") return;
  for (const socket of sockets) socket.destroy();
  echo.server.close();
  floods.server.close(() => process.exit(0));
});
process.on("disconnect", () => process.exit(0));
