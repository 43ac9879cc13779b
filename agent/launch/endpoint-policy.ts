/**
 * Which endpoints a launcher may hand the gateway. Launcher output is untrusted: a launcher that
 * answered `tcp://10.0.0.5:22` would turn the gateway into a relay to any host the node can
 * reach. So TCP and WebSocket endpoints must be on this node's loopback, or on a host the admin
 * listed in `launchers.endpointHosts` (compute nodes of a batch scheduler); unix sockets must be
 * absolute, normalised paths that fit in a socket address.
 */
import { isIPv4, isIPv6 } from "node:net";
import { posix } from "node:path";
import type { Endpoint } from "../gateway/endpoint.ts";

/** sun_path is 108 bytes on Linux, including the terminating NUL. */
const MAX_UNIX_PATH_BYTES = 107;

function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost") return true;
  if (isIPv4(bare)) return bare.split(".")[0] === "127";
  return isIPv6(bare) && new URL(`http://[${bare}]/`).hostname === "[::1]";
}

/** `pattern` is an exact host name or `*.suffix` (any name ending in `.suffix`); case-insensitive. */
function matchesHost(host: string, pattern: string): boolean {
  const name = host.toLowerCase();
  const wanted = pattern.toLowerCase();
  return wanted.startsWith("*.") ? name.endsWith(wanted.slice(1)) && name.length > wanted.length - 1 : name === wanted;
}

/** Why `endpoint` is refused, or null when the gateway may use it. */
export function endpointRefusal(endpoint: Endpoint, allowedHosts: readonly string[]): string | null {
  if (endpoint.kind === "unix") {
    if (endpoint.path.includes("\0")) return "a unix socket path must not contain NUL";
    if (posix.normalize(endpoint.path) !== endpoint.path) return `unix socket path ${JSON.stringify(endpoint.path)} is not normalised (no '..', '.', '//' or trailing '/')`;
    if (Buffer.byteLength(endpoint.path) > MAX_UNIX_PATH_BYTES) return `unix socket path is longer than ${MAX_UNIX_PATH_BYTES} bytes`;
    return null;
  }
  const url = endpoint.kind === "ws" ? new URL(endpoint.url) : null;
  if (url && (url.username !== "" || url.password !== "")) return "a WebSocket endpoint must not carry credentials";
  const host = url ? url.hostname : endpoint.kind === "tcp" ? endpoint.host : "";
  if (isLoopbackHost(host) || allowedHosts.some((pattern) => matchesHost(host, pattern))) return null;
  return `host ${JSON.stringify(host)} is neither loopback nor in launchers.endpointHosts`;
}
