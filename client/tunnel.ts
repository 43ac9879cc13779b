/**
 * One tunnel to a node's TCP service: a service ticket from the broker (`POST /v1/tunnels`, as the
 * signed-in user), then the WebSocket it opens (`GET /v1/tunnels/:serverId`, the ticket offered
 * as the `broker-ticket.` subprotocol, never in a URL that logs keep), joined to a local byte
 * stream with backpressure both ways. What the node's gateway says when it closes (1011 and the
 * cause, 4000 and the broker's reason) is kept for the user.
 */
import { type Duplex, pipeline } from "node:stream";
import { createWebSocketStream, WebSocket } from "ws";
import { EdgeError, postJson } from "./edge-http.ts";
import { bearerFor, type SessionDeps } from "./session.ts";

export const HANDSHAKE_TIMEOUT_MS = 15_000;
/** The gateway's default largest message is 1 MiB; nothing larger is expected back. */
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export interface TunnelTarget {
  broker: string;
  profileId: string;
  /** The server as the user or the X2Go answer named it: hostname, serverId or address. */
  server: string;
}

interface TunnelAnswer {
  serverId: string;
  hostname: string;
  service: string;
  relay: { url: string; protocol: string };
}

/** How the tunnel ended, from the WebSocket's close. */
export interface TunnelEnd {
  code: number;
  reason: string;
}

/** A line for the user about a close the other side chose; null for a plain end. */
export function describeEnd(end: TunnelEnd): string | null {
  if (end.code === 1000 || end.code === 1001 || end.code === 1005) return null;
  if (end.code === 1011) return `the node could not reach the service: ${end.reason || "no reason given"}`;
  if (end.code === 4000) return `the connection was ended by the broker: ${end.reason || "no reason given"}`;
  if (end.code === 1006) return "the connection to the broker was lost";
  return `the connection closed with ${end.code}${end.reason ? ` (${end.reason})` : ""}`;
}

function upgradeRefusal(status: number, body: string): EdgeError {
  try {
    const envelope = JSON.parse(body) as { error?: { code?: string; message?: string } };
    if (envelope.error?.code && envelope.error.message) return new EdgeError(`the broker refused the tunnel: ${envelope.error.message} (${envelope.error.code})`, envelope.error.code, status);
  } catch {
    // not the envelope
  }
  return new EdgeError(`the broker refused the tunnel (${status})`, null, status);
}

/**
 * An open tunnel. Its stream and its end are taken in the WebSocket's open event itself: a service
 * speaks first (an SSH server's banner), and its first message can arrive with the 101 answer, to
 * be emitted before any later callback could listen.
 */
export interface OpenTunnel {
  ws: WebSocket;
  stream: Duplex;
  ended: Promise<TunnelEnd>;
}

/** Opens the WebSocket of a service ticket. */
export function openTicket(url: string, protocol: string, sourceAddress?: string): Promise<OpenTunnel> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [protocol, "binary"], {
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: MAX_PAYLOAD_BYTES,
      ...(sourceAddress ? { localAddress: sourceAddress } : {}),
    });
    ws.once("open", () => {
      const ended = new Promise<TunnelEnd>((resolveEnd) => ws.once("close", (code, reason) => resolveEnd({ code, reason: reason.toString("utf8") })));
      const stream = createWebSocketStream(ws);
      stream.on("error", () => ws.terminate());
      resolve({ ws, stream, ended });
    });
    ws.once("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body = (body + chunk.toString("utf8")).slice(0, 4096)));
      response.on("end", () => reject(upgradeRefusal(response.statusCode ?? 0, body)));
      response.on("error", () => reject(upgradeRefusal(response.statusCode ?? 0, body)));
    });
    ws.once("error", (error: NodeJS.ErrnoException) => reject(error instanceof EdgeError ? error : new EdgeError(`cannot open the tunnel: ${error.code ?? error.message}`)));
  });
}

/** A ticket for `target` and the WebSocket it opens. */
export async function openTunnel(target: TunnelTarget, deps: SessionDeps): Promise<OpenTunnel> {
  const bearer = await bearerFor(target.broker, deps);
  const answer = await postJson<TunnelAnswer>(`${target.broker}/v1/tunnels`, { profileId: target.profileId, server: target.server }, { bearer, sourceAddress: deps.sourceAddress, expectStatus: [201] });
  return openTicket(answer.relay.url, answer.relay.protocol, deps.sourceAddress);
}

/**
 * Joins a tunnel to a local stream (a TCP socket, or stdin and stdout) until either side ends: the
 * local side's end closes the WebSocket, the WebSocket's close ends the local side. Resolves with
 * the WebSocket's close.
 */
export function joinTunnel(tunnel: OpenTunnel, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<TunnelEnd> {
  pipeline(input, tunnel.stream, () => undefined);
  pipeline(tunnel.stream, output, () => undefined);
  return tunnel.ended;
}
