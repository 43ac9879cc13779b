/** `OpenSocket` with the `ws` package: the real channel connection (wired in node-deps.ts). */
import type { IncomingMessage } from "node:http";
import WebSocket from "ws";
import { errorEnvelopeSchema } from "../../src/protocol.ts";
import { MAX_CHANNEL_MESSAGE_BYTES } from "../../src/channel-protocol.ts";
import { type OpenSocket, UpgradeRefused } from "./socket.ts";

/** An error body is read up to this many bytes. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;

function readRefusal(response: IncomingMessage): Promise<UpgradeRefused> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      const status = response.statusCode ?? 0;
      try {
        const envelope = errorEnvelopeSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        if (envelope.success) return resolve(new UpgradeRefused(status, envelope.data.error.code, envelope.data.error.message));
      } catch {
        // Not the broker's envelope (a proxy's page): the status is all we know.
      }
      resolve(new UpgradeRefused(status, `HTTP_${status}`, response.statusMessage ?? "refused"));
    };
    response.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_ERROR_BODY_BYTES) chunks.push(chunk);
      else response.destroy();
    });
    response.on("end", done);
    response.on("close", done);
    response.on("error", done);
  });
}

export const openWsSocket: OpenSocket = (url, headers, events, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const ws = new WebSocket(url.replace(/^http/, "ws"), { headers, maxPayload: MAX_CHANNEL_MESSAGE_BYTES, perMessageDeflate: false, followRedirects: false });
    let opened = false;
    const abort = () => ws.terminate();
    signal.addEventListener("abort", abort, { once: true });
    ws.on("unexpected-response", (_request, response) => {
      void readRefusal(response).then((refusal) => {
        reject(refusal);
        ws.terminate();
      });
    });
    ws.on("error", (error) => {
      if (!opened) reject(signal.aborted ? (signal.reason as Error) : error);
    });
    ws.on("open", () => {
      opened = true;
      signal.removeEventListener("abort", abort);
      resolve({
        send: (text) => ws.send(text),
        close: (code, reason) => ws.close(code, reason),
        terminate: () => ws.terminate(),
      });
    });
    ws.on("message", (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      events.message(isBinary ? new Uint8Array(bytes) : bytes.toString("utf8"));
    });
    ws.on("close", (code, reason) => {
      signal.removeEventListener("abort", abort);
      if (opened) events.close(code, reason.toString("utf8"));
      else reject(new Error(`the channel closed before it opened (${code})`));
    });
  });
