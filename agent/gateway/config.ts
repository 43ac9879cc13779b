/**
 * The `gateway` section of the agent config: where the node gateway listens (a loopback address
 * only: cloudflared on this machine is its one client), how many connections it carries, the
 * static session→endpoint map (`"*"` = one shared desktop for every session of the node), and
 * the TCP services profiles may name (`ssh` → this node's sshd, …; none unless listed).
 */
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { serviceNameSchema } from "../../src/tunnels/service-name.ts";
import { endpointSchema } from "./endpoint.ts";

export const DEFAULT_GATEWAY_MAX_CONNECTIONS = 200;
/** Largest WebSocket message accepted from either side; a bigger one closes the connection with 1009. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** The session key that matches every session without an entry of its own. */
export const ANY_SESSION = "*";

export interface ListenAddress {
  /** An IP literal without brackets: 127.x.x.x or ::1. */
  host: string;
  port: number;
}

const LISTEN_MESSAGE = 'must be a loopback address and port such as "127.0.0.1:7080" or "[::1]:7080" (cloudflared on this node is the gateway\'s only client)';

function isLoopback(host: string): boolean {
  if (isIPv4(host)) return host.split(".")[0] === "127";
  return isIPv6(host) && new URL(`http://[${host}]/`).hostname === "[::1]";
}

/** `host:port` → the address, or null unless host is a loopback IP literal and port 1–65535. */
export function parseListenAddress(text: string): ListenAddress | null {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const host = match[1] ?? match[2] ?? "";
  const port = Number(match[3]);
  if (port < 1 || port > 65_535 || !isLoopback(host)) return null;
  return { host, port };
}

/** The URL cloudflared's ingress points at (`agent tunnel-config`'s default service). */
export function listenUrl(listen: ListenAddress): string {
  return `http://${listen.host.includes(":") ? `[${listen.host}]` : listen.host}:${listen.port}`;
}

const typeError = (message: string) => (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : message);

const listenSchema = z.string({ error: typeError(LISTEN_MESSAGE) }).transform((text, context) => {
  const address = parseListenAddress(text);
  if (address) return address;
  context.addIssue({ code: "custom", message: `"${text}" is refused: ${LISTEN_MESSAGE}` });
  return z.NEVER;
});

const sessionKeySchema = z.string().min(1, "session ids must not be empty").max(256, "session ids are at most 256 characters");

const countSchema = (max: number, fallback: number) =>
  z
    .number({ error: typeError("must be a whole number") })
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(max, `must be at most ${max}`)
    .default(fallback);

const SERVICES_MESSAGE = 'must be an object of service name → endpoint, such as { "ssh": "tcp://127.0.0.1:22" }';

/** The map's own type error, or the key's reason (zod would say only "Invalid key in record"). */
function servicesError(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type") return typeError(SERVICES_MESSAGE)(issue);
  if (issue.code === "invalid_key") return issue.issues[0]?.message;
  return undefined;
}

/** A service is a byte stream: `tcp://` or `unix:`, never a WebSocket pass-through. */
const serviceEndpointSchema = endpointSchema.refine((endpoint) => endpoint.kind !== "ws", "a service endpoint is tcp://host:port or unix:/path");

export const gatewayConfigSchema = z.strictObject(
  {
    listen: listenSchema,
    maxConnections: countSchema(10_000, DEFAULT_GATEWAY_MAX_CONNECTIONS),
    maxMessageBytes: countSchema(64 * 1024 * 1024, DEFAULT_MAX_MESSAGE_BYTES),
    connectTimeoutMs: countSchema(60_000, DEFAULT_CONNECT_TIMEOUT_MS),
    endpoints: z.record(sessionKeySchema, endpointSchema, { error: typeError("must be an object of session id → endpoint") }).default({}),
    services: z.record(serviceNameSchema, serviceEndpointSchema, { error: servicesError }).default({}),
  },
  { error: typeError('must be an object such as { "listen": "127.0.0.1:7080", "endpoints": { "*": "tcp://127.0.0.1:5901" } }') },
);

/** The parsed section. Connections and bytes are counts; `connectTimeoutMs` bounds reaching an endpoint. */
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
