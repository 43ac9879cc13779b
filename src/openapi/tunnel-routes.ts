/**
 * The routes of issue 17 for the OpenAPI document: refreshing a session token, and tunnels to a
 * node's TCP service (what the `edge-desktop` helper uses for ssh and X2Go). Kept beside
 * registry.ts, which lists them with the rest.
 */
import { tunnelBodySchema, tunnelParamSchema } from "../routes/tunnels.ts";
import type { RouteSpec } from "./route-spec.ts";

export const tunnelRoutes: RouteSpec[] = [
  {
    method: "post", path: "/v1/auth/refresh", operationId: "refreshSession", summary: "Exchange a session token for a fresh one", tag: "auth", auth: "user",
    description:
      "Only a broker session token (from `POST /v1/auth/login` or an earlier refresh) is refreshed, while its user is still enabled with the same password, and for at most 7 days after the password sign-in it descends from; then the user signs in again. OIDC tokens and the admin secret are refused (401).",
    response: { status: 200, description: "`{ token, expiresAt, user }`, as a sign-in." },
  },
  {
    method: "post", path: "/v1/tunnels", operationId: "openTunnel", summary: "A ticket for a tunnel to a node's TCP service", tag: "relay", auth: "user",
    description:
      "For native clients (OpenSSH, X2Go over SSH, …) through the `edge-desktop` helper. `server` is a serverId, a hostname, or the host an X2Go selectsession answered; it must be a server the profile may use (its pool, its hosts). " +
      "The service is the profile's `service`; the node's agent maps it to an endpoint of its own. A profile the caller may not use is answered like a missing one (404); a profile without a service, or a name several servers answer to, is 409; a server that is down is 503. Rate-limited like session starts.",
    body: tunnelBodySchema,
    response: { status: 201, description: "`{ serverId, hostname, pool, profileId, service, relay: { url, ticket, expiresAt, protocol, connectUrl } }`: open `relay.url` as for a desktop relay." },
    errors: ["NOT_FOUND", "CONFLICT", "NO_SERVER_AVAILABLE", "RATE_LIMITED"],
  },
  {
    method: "get", path: "/v1/tunnels/{serverId}", operationId: "tunnel", summary: "WebSocket to a node's TCP service", tag: "relay", auth: "serviceTicket",
    description:
      "A WebSocket upgrade passed through to the node's gateway, which bridges binary frames to the service. The ticket comes as `?ticket=` or as the subprotocol `broker-ticket.<ticket>`; a desktop relay ticket is refused here (and a service ticket at `/v1/relay`). No fallback: a server that is down or unreachable is 502.",
    params: tunnelParamSchema, response: { status: 101, description: "Switching protocols: a byte stream to the service.", mediaType: null },
    errors: ["FORBIDDEN", "NOT_FOUND", "UPGRADE_REQUIRED", "ORIGIN_UNREACHABLE"],
  },
];
