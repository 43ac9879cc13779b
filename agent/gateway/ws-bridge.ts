/**
 * WebSocket pass-through to a session's own WebSocket endpoint: messages keep their type (text or
 * binary), flow control both ways (flow.ts). The endpoint's close code and reason reach the
 * client when they may be sent again; one that closed without a code gives 1001 "session
 * ended", one that failed or vanished 1011 with the cause. The client's close is passed on.
 */
import { type RawData, WebSocket } from "ws";
import { type Bridge, type BridgeOptions, closeWebSocket, settledOn } from "./bridge.ts";
import { CLOSE_ENDPOINT_ERROR, CLOSE_GOING_AWAY, isSendableCode, REASON_SESSION_ENDED } from "./close-codes.ts";
import { createFlowGate } from "./flow.ts";

const NO_STATUS = 1005;

/** What the client is told when the endpoint closed with `code` (`failure`: the error seen before it). */
function closeForClient(code: number, reason: string, failure: string | null): { code: number; reason: string } {
  if (failure !== null) return { code: CLOSE_ENDPOINT_ERROR, reason: `session endpoint failed: ${failure}` };
  if (code === NO_STATUS) return { code: CLOSE_GOING_AWAY, reason: REASON_SESSION_ENDED };
  if (!isSendableCode(code)) return { code: CLOSE_ENDPOINT_ERROR, reason: `session endpoint closed abnormally (${code})` };
  return { code, reason: reason.length > 0 ? reason : REASON_SESSION_ENDED };
}

export function bridgeWebSocket(client: WebSocket, endpoint: WebSocket, options: BridgeOptions): Bridge {
  let ending = false;
  let failure: string | null = null;
  const toClient = createFlowGate(options.flow, endpoint);
  const toEndpoint = createFlowGate(options.flow, client);

  const end = (code: number, reason: string) => {
    if (ending) return;
    ending = true;
    endpoint.terminate();
    closeWebSocket(client, code, reason, options);
  };

  endpoint.on("message", (data: RawData, isBinary: boolean) => {
    if (ending || client.readyState !== WebSocket.OPEN) return;
    const bytes = data as Buffer;
    client.send(bytes, { binary: isBinary }, toClient.sent(bytes.length));
  });
  endpoint.on("error", (error) => {
    failure ??= error.message;
  });
  endpoint.once("close", (code: number, reason: Buffer) => {
    const told = closeForClient(code, reason.toString("utf8"), failure);
    end(told.code, told.reason);
  });

  client.on("message", (data: RawData, isBinary: boolean) => {
    if (ending || endpoint.readyState !== WebSocket.OPEN) return;
    const bytes = data as Buffer;
    endpoint.send(bytes, { binary: isBinary }, toEndpoint.sent(bytes.length));
  });
  client.on("error", () => undefined);
  client.once("close", (code: number, reason: Buffer) => {
    if (ending) return;
    ending = true;
    closeWebSocket(endpoint, isSendableCode(code) ? code : CLOSE_GOING_AWAY, isSendableCode(code) ? reason.toString("utf8") : "client went away", options);
  });

  // connect.ts left the endpoint paused until these listeners were attached.
  if (endpoint.readyState === WebSocket.OPEN) endpoint.resume();
  else end(CLOSE_ENDPOINT_ERROR, "session endpoint closed before the connection was bridged");

  const closed = Promise.all([
    settledOn(client, "close", () => client.readyState === WebSocket.CLOSED),
    settledOn(endpoint, "close", () => endpoint.readyState === WebSocket.CLOSED),
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
