/**
 * The node endpoint for the relay bench, run as a child process (`fork`) so the client, the
 * relay and this server each have their own process and event loop. A WebSocket server (`ws`)
 * on 127.0.0.1 that echoes every message. A text message `flood <maxBytes> <maxMs>` makes it
 * push 64 KiB binary frames at that connection instead, as fast as its socket accepts them
 * (at most 1 MiB queued in this process), until either bound; it then reports over IPC how many
 * bytes the kernel accepted. Tells the parent its port over IPC; exits when the parent says so
 * or goes away.
 */
import { WebSocket, WebSocketServer } from "ws";

export type EchoServerMessage =
  | { type: "listening"; port: number }
  | { type: "flood"; acceptedBytes: number; acceptedAtHalfBytes: number; ms: number };

const FRAME = Buffer.alloc(64 * 1024, 0x5a);
const MAX_QUEUED_BYTES = 1024 * 1024;

function report(message: EchoServerMessage): void {
  process.send?.(message);
}

function flood(ws: WebSocket, maxBytes: number, maxMs: number): void {
  const started = performance.now();
  let queued = 0;
  let accepted = 0;
  let acceptedAtHalf = -1;
  let done = false;
  const pump = () => {
    while (!done && ws.readyState === WebSocket.OPEN && queued - accepted < MAX_QUEUED_BYTES && queued < maxBytes) {
      queued += FRAME.length;
      ws.send(FRAME, { binary: true }, (error) => {
        if (error || done) return;
        accepted += FRAME.length;
        pump();
      });
    }
  };
  const half = setTimeout(() => {
    acceptedAtHalf = accepted;
  }, maxMs / 2);
  setTimeout(() => {
    done = true;
    clearTimeout(half);
    report({ type: "flood", acceptedBytes: accepted, acceptedAtHalfBytes: acceptedAtHalf < 0 ? accepted : acceptedAtHalf, ms: performance.now() - started });
  }, maxMs);
  pump();
}

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: 1024 * 1024, backlog: 1024 });
wss.on("connection", (ws) => {
  ws.on("error", () => ws.terminate());
  ws.on("message", (data: Buffer, isBinary) => {
    if (!isBinary) {
      const [command, bytes, ms] = data.toString("utf8").split(" ");
      if (command === "flood") {
        flood(ws, Number(bytes), Number(ms));
        return;
      }
    }
    ws.send(data, { binary: isBinary });
  });
});
wss.on("listening", () => {
  const address = wss.address();
  if (typeof address === "object" && address) report({ type: "listening", port: address.port });
});
process.on("message", (message) => {
  if (message === "stop") {
    for (const client of wss.clients) client.terminate();
    wss.close(() => process.exit(0));
  }
});
process.on("disconnect", () => process.exit(0));
