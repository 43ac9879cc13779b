/**
 * A session endpoint: where the gateway takes a connection once its assertion is accepted.
 * `tcp://host:port` and `unix:/path` are bridged WebSocket→TCP (VNC's RFB, websockify's job);
 * `ws://…` and `wss://…` are a WebSocket pass-through to the session's own WebSocket server.
 */
import { z } from "zod";

export type Endpoint =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "unix"; path: string }
  | { kind: "ws"; url: string };

export const ENDPOINT_FORMS = "tcp://host:port, unix:/absolute/path, ws://… or wss://…";

/** Parses one endpoint string; null when it is none of the four forms. */
export function parseEndpoint(text: string): Endpoint | null {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    return path.startsWith("/") && path.length > 1 ? { kind: "unix", path } : null;
  }
  if (!URL.canParse(text)) return null;
  const url = new URL(text);
  if (url.protocol === "ws:" || url.protocol === "wss:") return { kind: "ws", url: url.href };
  if (url.protocol !== "tcp:" || url.port === "" || url.port === "0" || url.hostname === "") return null;
  if (url.pathname !== "" && url.pathname !== "/") return null;
  // WHATWG URLs keep the brackets of an IPv6 literal in `hostname`; net.connect wants them off.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { kind: "tcp", host, port: Number(url.port) };
}

/** The endpoint as written in the config (for logs and the connection list). */
export function describeEndpoint(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case "tcp":
      return `tcp://${endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
    case "unix":
      return `unix:${endpoint.path}`;
    case "ws":
      return endpoint.url;
  }
}

export const endpointSchema = z.string({ error: `must be an endpoint (${ENDPOINT_FORMS})` }).transform((text, context) => {
  const endpoint = parseEndpoint(text);
  if (endpoint) return endpoint;
  context.addIssue({ code: "custom", message: `"${text}" is not an endpoint (${ENDPOINT_FORMS})` });
  return z.NEVER;
});
