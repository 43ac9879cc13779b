/**
 * The wait line (issue 16) for the OpenAPI document: a user's place (read, follow, leave) and a
 * pool's line for admins. Kept beside registry.ts, which lists them with the rest.
 */
import { queueEntryParam } from "../routes/queue-admin.ts";
import { queueParamSchema, queueQuerySchema } from "../routes/queue.ts";
import type { RouteSpec } from "./route-spec.ts";

const QUEUED = "`{ state: \"queued\", pool, profileId, queued: { id, position, since, expiresAt, estimateSeconds?, message } }`";

export const queueRoutes: RouteSpec[] = [
  {
    method: "get", path: "/v1/queue/{queueId}", operationId: "queuePlace", summary: "My place in a wait line", tag: "sessions", auth: "user",
    description:
      "A start of a profile with a `queue` that finds every server full answers 202 with a place. Read it here: `wait` (seconds, at most 60) holds the answer until the place changes (a long-poll); `position` (the one last seen) answers at once when it is out of date. " +
      "When a server frees, the head is placed through the normal chain and the answer is the same as a start's (`state: running` with a fresh relay ticket on every read, or `starting` for a launcher's queued job). " +
      "A place that waited `maxWaitSeconds`, or that an admin removed, is 410 `NO_LONGER_QUEUED`; a placement that fails otherwise answers that error (409 `SESSION_LIMIT_REACHED`, 502 `LAUNCH_FAILED`, …). Anyone else's place is 404.",
    params: queueParamSchema, query: queueQuerySchema,
    response: { status: 200, description: `${QUEUED} while waiting; then the connection answer of a start.` },
    errors: ["NOT_FOUND", "NO_LONGER_QUEUED", "SESSION_LIMIT_REACHED", "POLICY_REJECTED", "LAUNCH_FAILED"],
  },
  {
    method: "get", path: "/v1/queue/{queueId}/events", operationId: "queueEvents", summary: "Follow my place (server-sent events)", tag: "sessions", auth: "user",
    description: "`event: position` with the queued answer whenever the place moves, then one `event: placed` (the connection answer) or `event: failed` (`{ error }`), and the stream ends.",
    params: queueParamSchema, response: { status: 200, description: "A `text/event-stream`.", mediaType: "text/event-stream" }, errors: ["NOT_FOUND", "NO_LONGER_QUEUED"],
  },
  {
    method: "delete", path: "/v1/queue/{queueId}", operationId: "leaveQueue", summary: "Leave a wait line", tag: "sessions", auth: "user",
    params: queueParamSchema, response: { status: 204, description: "Left.", mediaType: null }, errors: ["NOT_FOUND"],
  },
  {
    method: "get", path: "/v1/admin/pools/{pool}/queue", operationId: "poolQueue", summary: "A pool's wait line", tag: "admin: pools", auth: "admin",
    params: queueEntryParam.pick({ pool: true }),
    response: { status: 200, description: "`{ queue: [{ id, user, profileId, status, position, since, expiresAt, estimateMs? }] }`, head first." }, errors: ["NOT_FOUND"],
  },
  {
    method: "delete", path: "/v1/admin/pools/{pool}/queue/{entryId}", operationId: "removeQueued", summary: "Take someone out of the line", tag: "admin: pools", auth: "admin",
    description: "The user's next read of the place is 410 `NO_LONGER_QUEUED` with the reason.",
    params: queueEntryParam, response: { status: 204, description: "Removed.", mediaType: null }, errors: ["NOT_FOUND"],
  },
];
