/**
 * The user's own sessions for the OpenAPI document: list, start (placing, and launching where the
 * profile names a launcher), terminate and resume. Kept beside registry.ts, which lists them.
 */
import type { ErrorCode } from "../core/errors.ts";
import { resumeBodySchema, resumeParamSchema, sessionsQuerySchema, startSessionBodySchema } from "../routes/sessions.ts";
import type { RouteSpec } from "./route-spec.ts";

/** A start or terminate of a launched session, over the node's control channel. */
const LAUNCH_ERRORS = ["NODE_NOT_CONNECTED", "NODE_BUSY", "NODE_TIMEOUT", "NODE_FAILED", "LAUNCH_FAILED"] as const;

export function sessionRoutes(placementErrors: readonly ErrorCode[]): RouteSpec[] {
  return [
    {
      method: "get", path: "/v1/sessions", operationId: "listSessions", summary: "The caller's sessions in every pool", tag: "sessions", auth: "user",
      description: "`user=` (another user) and `all=true` (everyone) are for admins.", query: sessionsQuerySchema,
      response: { status: 200, description: "`{ sessions: [...] }` with where each runs." }, errors: ["FORBIDDEN"],
    },
    {
      method: "post", path: "/v1/sessions", operationId: "startSession", summary: "Start a session with a profile", tag: "sessions", auth: "user", body: startSessionBodySchema,
      response: {
        status: 201,
        description:
          "`{ serverId, hostname, pool, profileId, mode, sessionId, resumed, state, message?, relay?: { url, ticket, expiresAt, protocol, connectUrl }, redirect?: { host, port } }`. " +
          "A profile with a `launcher` starts the session on the node first: 201 `state: running` when it runs, 202 `state: starting` (no relay yet, the launcher's `message`) when the node's scheduler queued it; resume it once `GET /v1/sessions` lists it running. A launcher's refusal or failure is 502 `LAUNCH_FAILED` with its message. " +
          "A profile with a `queue` answers a start that finds every server full with 202 `state: queued` and `queued: { id, position, since, expiresAt, estimateSeconds?, message }` instead of 503 (a full line, or none, keeps the 503); follow it with `GET /v1/queue/{queueId}`. " +
          "To connect, open `relay.url` offering `relay.protocol` (`broker-ticket.<ticket>`) as a WebSocket subprotocol, alone or before others, or open `relay.connectUrl` (`url?ticket=<ticket>`). " +
          "A profile the caller may not use is answered like a missing one (404); a new session beyond the profile's `maxSessionsPerUser` (sessions plus pending starts in the pool) is 409 `SESSION_LIMIT_REACHED`.",
      },
      errors: ["BAD_REQUEST", "NOT_FOUND", ...placementErrors, ...LAUNCH_ERRORS],
    },
    {
      method: "delete", path: "/v1/sessions/{sessionId}", operationId: "terminateSession", summary: "End a launched session", tag: "sessions", auth: "user",
      description:
        "The owner or an admin. The node's launcher (or the session's process group) ends it, its live connections close with a reason, and it leaves the lists at once. Anyone else's session is 404; a session the node did not launch is 409.",
      params: resumeParamSchema, response: { status: 204, description: "Ended." }, errors: ["NOT_FOUND", "CONFLICT", "RATE_LIMITED", ...LAUNCH_ERRORS],
    },
    {
      method: "post", path: "/v1/sessions/{sessionId}/resume", operationId: "resumeSession", summary: "Resume one of the caller's sessions", tag: "sessions", auth: "user",
      params: resumeParamSchema, body: resumeBodySchema, response: { status: 200, description: "The same shape as a start." }, errors: ["FORBIDDEN", "NOT_FOUND", ...placementErrors],
    },
  ];
}
