/**
 * WebSocket→TCP bridge, websockify's job for VNC's RFB: each binary frame from the client is
 * written to the endpoint's socket, and the socket's bytes go back as binary frames, with flow
 * control both ways (flow.ts). A text frame closes the connection with 1003. The endpoint closing
 * normally gives the client 1001 "session ended"; an endpoint error (reset, …) 1011 with its
 * cause; the client closing ends the socket (destroyed after the grace if the endpoint keeps its
 * side open).
 */
import type { Socket } from "node:net";
import { type RawData, WebSocket } from "ws";
import { type Bridge, type BridgeOptions, closeWebSocket, settledOn } from "./bridge.ts";
import { CLOSE_ENDPOINT_ERROR, CLOSE_GOING_AWAY, CLOSE_UNSUPPORTED_DATA, REASON_SESSION_ENDED, REASON_TEXT_REFUSED } from "./close-codes.ts";
import { createFlowGate } from "./flow.ts";

/** The errno code of a socket error (ECONNRESET, …), else its message. */
export function socketErrorText(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}

export function bridgeTcp(client: WebSocket, endpoint: Socket, options: BridgeOptions): Bridge {
  let ending = false;
  const toClient = createFlowGate(options.flow, { pause: () => endpoint.pause(), resume: () => endpoint.resume() });
  const toEndpoint = createFlowGate(options.flow, { pause: () => client.pause(), resume: () => client.resume() });

  const end = (code: number, reason: string) => {
    if (ending) return;
    ending = true;
    endpoint.destroy();
    closeWebSocket(client, code, reason, options);
  };

  endpoint.on("data", (chunk: Buffer) => {
    if (client.readyState !== WebSocket.OPEN) return;
    client.send(chunk, { binary: true }, toClient.sent(chunk.length));
  });
  // 'end' comes only after every byte before it was read and queued to the client, ahead of the close.
  endpoint.once("end", () => end(CLOSE_GOING_AWAY, REASON_SESSION_ENDED));
  endpoint.on("error", (error) => end(CLOSE_ENDPOINT_ERROR, `session endpoint failed: ${socketErrorText(error)}`));
  endpoint.once("close", () => end(CLOSE_GOING_AWAY, REASON_SESSION_ENDED));

  client.on("message", (data: RawData, isBinary: boolean) => {
    if (ending) return;
    if (!isBinary) return end(CLOSE_UNSUPPORTED_DATA, REASON_TEXT_REFUSED);
    const bytes = data as Buffer;
    endpoint.write(bytes, toEndpoint.sent(bytes.length));
  });
  // ws closes a connection with a protocol error itself (1002, 1009); its 'close' follows.
  client.on("error", () => undefined);
  client.once("close", () => {
    if (ending) return;
    ending = true;
    endpoint.end();
    const timer = options.timers.setTimer(() => endpoint.destroy(), options.closeGraceMs);
    endpoint.once("close", () => options.timers.clearTimer(timer));
  });

  // An endpoint that failed between connecting and the upgrade has already emitted its 'close'.
  if (endpoint.destroyed) end(CLOSE_ENDPOINT_ERROR, "session endpoint failed before the connection was bridged");

  const closed = Promise.all([
    settledOn(client, "close", () => client.readyState === WebSocket.CLOSED),
    settledOn(endpoint, "close", () => endpoint.closed),
  ]).then(() => undefined);

  return {
    end,
    get ending() {
      return ending;
    },
    flow: () => ({
      toClientPendingBytes: toClient.pendingBytes,
      toEndpointPendingBytes: toEndpoint.pendingBytes,
      readingEndpoint: !toClient.holding,
      readingClient: !toEndpoint.holding,
    }),
    closed,
  };
}
