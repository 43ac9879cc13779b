/**
 * The control channel's messages (decision 8): one WebSocket per node, dialled out by the agent to
 * its pool's Durable Object (`GET /v1/agent/channel`, a node-signed token with audience
 * `broker:channel`). Runtime-neutral: imports only zod and the HTTP protocol, so the Worker and
 * the agent share one definition.
 *
 * Frames are UTF-8 JSON text, one message each, at most MAX_CHANNEL_MESSAGE_BYTES. Either side
 * sends requests `{ id, method, params }` and answers the other's with `{ id, ok: true, result }`
 * or `{ id, ok: false, error: { code, message } }`. Each side numbers its own requests; an error
 * about a message whose id could not be read carries `id: null`. The one exception is the
 * keepalive: the agent sends the bare text `ping` and the runtime answers `pong` without waking
 * the object.
 */
import { z } from "zod";
import { heartbeatBodySchema, heartbeatReplySchema, MAX_EPOCH_MS, MAX_HEARTBEAT_BODY_BYTES } from "./protocol.ts";

/** A heartbeat fits with room for the envelope; a larger frame closes the channel with 1009. */
export const MAX_CHANNEL_MESSAGE_BYTES = MAX_HEARTBEAT_BODY_BYTES + 1024;
/** Every request, in either direction, is answered or failed with TIMEOUT within this. */
export const CHANNEL_REQUEST_TIMEOUT_MS = 5_000;
/** Requests one side may have unanswered on one channel; more are refused with TOO_MANY_PENDING. */
export const MAX_PENDING_CHANNEL_REQUESTS = 64;
/** The agent's keepalive period: well under the ~100 s after which Cloudflare drops an idle WebSocket. */
export const CHANNEL_KEEPALIVE_INTERVAL_MS = 30_000;
/** A channel whose last keepalive is older than this counts as gone (the agent died without a close). */
export const CHANNEL_STALE_AFTER_MS = 3 * CHANNEL_KEEPALIVE_INTERVAL_MS;
export const CHANNEL_KEEPALIVE_REQUEST = "ping";
export const CHANNEL_KEEPALIVE_RESPONSE = "pong";

/**
 * Close codes the broker sends (RFC 6455 private range for its own reasons), always with a reason.
 * The agent reconnects after every close; after REPLACED, REMOVED and REKEYED it waits about
 * `maxBackoffMs` (nothing changes until an operator acts), after the others a full-jitter backoff.
 */
export const CHANNEL_CLOSE = {
  /** The agent is stopping, or the object is going away. */
  goingAway: 1001,
  /** A message that is not text (binary frames are not used). */
  unsupportedData: 1003,
  /** A frame above MAX_CHANNEL_MESSAGE_BYTES. */
  tooBig: 1009,
  /** The node opened a newer channel; this one is closed. */
  replaced: 4001,
  /** An admin removed the node. */
  removed: 4002,
  /** The node's key was replaced (a re-key): its channel must be opened again with the new key. */
  rekeyed: 4003,
  /** No keepalive for CHANNEL_STALE_AFTER_MS. */
  stale: 4004,
} as const;

const requestIdSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const epochMsSchema = z.number().int().nonnegative().max(MAX_EPOCH_MS);
const noParams = z.strictObject({});

/** Which live relayed connections a `disconnect` ends: those of one session, or of one user (the broker login). */
export const disconnectTargetSchema = z.union([z.strictObject({ sessionId: z.string().min(1).max(256) }), z.strictObject({ user: z.string().min(1).max(256) })]);
export type DisconnectTarget = z.infer<typeof disconnectTargetSchema>;

/**
 * A launched session's `start` (decision 10, FastX's job-scheduling contract): the broker sends it
 * after placement; the agent runs the profile's launcher with it on stdin (plus `action` and
 * `node`). The broker waits at most START_TIMEOUT_MS for the answer, so a node's
 * `launchers.timeoutMs` should stay below it.
 */
export const START_TIMEOUT_MS = 60_000;

/** Launcher file names: lower-case letters, digits and '-', no dots, so no path and no hidden file. */
export const LAUNCHER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;

/** The largest JSON text of `profile.params`, `data` and `handle` each: settings, not payloads. */
export const MAX_JSON_FIELD_BYTES = 8 * 1024;

export const launcherNameSchema = z.string().regex(LAUNCHER_NAME_PATTERN, "a launcher name is 1-64 chars of a-z, 0-9 and '-', starting with a letter");

/** Usable as a file name by launchers: no '/', no leading '.', no control characters. */
export const launchSessionIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, "a session id is 1-128 chars of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.' or '-'");

/** The broker's login rule (src/users/users.ts); launchers map it to a local account. */
export const launchLoginSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, "a login is 1-64 chars of A-Z, a-z, 0-9, '.', '_', '@' and '-'");

/** A JSON object whose text is at most `MAX_JSON_FIELD_BYTES` bytes. */
export const boundedJsonObjectSchema = z.record(z.string(), z.json()).refine(
  (value) => new TextEncoder().encode(JSON.stringify(value)).length <= MAX_JSON_FIELD_BYTES,
  `must be at most ${MAX_JSON_FIELD_BYTES} bytes of JSON`,
);
export type JsonObject = z.infer<typeof boundedJsonObjectSchema>;

export const launchUserSchema = z.strictObject({
  login: launchLoginSchema,
  groups: z.array(z.string().min(1).max(256).regex(/^[^\x00-\x1f]+$/, "a group name has no control characters")).max(256),
  isAdmin: z.boolean(),
});
export type LaunchUser = z.infer<typeof launchUserSchema>;

export const launchProfileSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "a profile id is 1-64 chars of A-Z, a-z, 0-9, '.', '_' and '-'"),
  /** Which executable of the node's launcher directory runs this profile's sessions. */
  launcher: launcherNameSchema,
  /** The admin's settings for that launcher (session command, geometry, partition, …). */
  params: boundedJsonObjectSchema.default({}),
});
export type LaunchProfile = z.infer<typeof launchProfileSchema>;

/** The broker's `start` command: which session, for whom, with which profile and client data. */
export const startRequestSchema = z.strictObject({
  sessionId: launchSessionIdSchema,
  user: launchUserSchema,
  profile: launchProfileSchema,
  /** The client's start data (`POST /v1/sessions` body `data`). */
  data: boundedJsonObjectSchema.default({}),
});
export type StartRequest = z.infer<typeof startRequestSchema>;

/** A start's answer: the session runs (its endpoint is registered in the node gateway), or it waits for a scheduler. */
export const startResultSchema = z.discriminatedUnion("state", [
  z.strictObject({ state: z.literal("running"), display: z.string().max(64).optional(), message: z.string().max(1024).optional() }),
  z.strictObject({ state: z.literal("queued"), message: z.string().max(1024) }),
]);
export type StartResult = z.infer<typeof startResultSchema>;

/** What the broker asks of an agent. `reason` is what the ended clients see (a close reason: ≤ 123 bytes). */
export const brokerRequestSchema = z.discriminatedUnion("method", [
  z.strictObject({ id: requestIdSchema, method: z.literal("ping"), params: noParams }),
  z.strictObject({
    id: requestIdSchema,
    method: z.literal("disconnect"),
    params: z.strictObject({ target: disconnectTargetSchema, reason: z.string().min(1).max(123) }),
  }),
  z.strictObject({ id: requestIdSchema, method: z.literal("start"), params: startRequestSchema }),
  /** Ends a launched session (its launcher's stop, else its process group); its connections close with `reason`. */
  z.strictObject({ id: requestIdSchema, method: z.literal("terminate"), params: z.strictObject({ sessionId: launchSessionIdSchema, reason: z.string().min(1).max(123) }) }),
]);
export type BrokerRequest = z.infer<typeof brokerRequestSchema>;
export type BrokerMethod = BrokerRequest["method"];

/** What the agent answers to each broker request. */
export const brokerResultSchemas = {
  ping: z.strictObject({ nowMs: epochMsSchema }),
  /** How many live connections the agent closed. */
  disconnect: z.strictObject({ closed: z.number().int().nonnegative().max(1_000_000) }),
  start: startResultSchema,
  terminate: z.strictObject({}),
} satisfies Record<BrokerMethod, z.ZodType>;
export type BrokerResult<M extends BrokerMethod> = z.infer<(typeof brokerResultSchemas)[M]>;

/** What an agent asks of the broker: a round trip, and a heartbeat (the body of `POST /v1/agent/heartbeat`). */
export const agentRequestSchema = z.discriminatedUnion("method", [
  z.strictObject({ id: requestIdSchema, method: z.literal("ping"), params: noParams }),
  z.strictObject({ id: requestIdSchema, method: z.literal("heartbeat"), params: heartbeatBodySchema }),
]);
export type AgentRequest = z.infer<typeof agentRequestSchema>;
export type AgentMethod = AgentRequest["method"];

export const agentResultSchemas = {
  ping: z.strictObject({ nowMs: epochMsSchema }),
  heartbeat: heartbeatReplySchema,
} satisfies Record<AgentMethod, z.ZodType>;
export type AgentResult<M extends AgentMethod> = z.infer<(typeof agentResultSchemas)[M]>;

/**
 * Why a request failed. Sent on the wire: BAD_MESSAGE (not JSON, or not the method's shape),
 * UNKNOWN_METHOD, TOO_MANY_PENDING, FAILED (the handler failed), UNAVAILABLE (the receiver cannot
 * do this, e.g. an agent without a gateway or launchers), LAUNCH_FAILED (the launcher refused or
 * failed a start; the message is the launcher's, for the user), UNKNOWN_SESSION (no launched
 * session of that id on the node). Only ever local: TIMEOUT, NOT_CONNECTED.
 */
export const channelErrorCodeSchema = z.enum(["BAD_MESSAGE", "UNKNOWN_METHOD", "TOO_MANY_PENDING", "FAILED", "UNAVAILABLE", "LAUNCH_FAILED", "UNKNOWN_SESSION", "TIMEOUT", "NOT_CONNECTED"]);
export type ChannelErrorCode = z.infer<typeof channelErrorCodeSchema>;
export const channelErrorSchema = z.strictObject({ code: channelErrorCodeSchema, message: z.string().max(1024) });
export type ChannelError = z.infer<typeof channelErrorSchema>;

export const channelResponseSchema = z.union([
  z.strictObject({ id: requestIdSchema, ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ id: requestIdSchema.nullable(), ok: z.literal(false), error: channelErrorSchema }),
]);
export type ChannelResponse = z.infer<typeof channelResponseSchema>;

/** One received frame, classified. `invalid` is answered with an error response (`id` when it could be read). */
export type IncomingMessage<Req> =
  | { kind: "request"; request: Req }
  | { kind: "response"; response: ChannelResponse }
  | { kind: "invalid"; id: number | null; error: ChannelError };

/** A frame's UTF-8 size is at least its length and at most three times it; measured only in between. */
function utf8Bytes(text: string): number {
  return text.length * 3 <= MAX_CHANNEL_MESSAGE_BYTES ? text.length : new TextEncoder().encode(text).length;
}

/** Whether a frame may be handled at all; the receiver closes the channel with 1009 otherwise. */
export function fitsChannel(frame: string | ArrayBuffer): boolean {
  return typeof frame === "string" ? frame.length <= MAX_CHANNEL_MESSAGE_BYTES && utf8Bytes(frame) <= MAX_CHANNEL_MESSAGE_BYTES : frame.byteLength <= MAX_CHANNEL_MESSAGE_BYTES;
}

/**
 * Reads one text frame from the peer. Requests are checked against `requests` (the methods this
 * side serves); responses only for their envelope: the requester checks the result.
 */
export function parseChannelMessage<S extends z.ZodType<{ id: number; method: string }>>(text: string, requests: S, methods: readonly string[]): IncomingMessage<z.infer<S>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "invalid", id: null, error: { code: "BAD_MESSAGE", message: "not JSON" } };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { kind: "invalid", id: null, error: { code: "BAD_MESSAGE", message: "not a JSON object" } };
  const record = value as Record<string, unknown>;
  const idRead = requestIdSchema.safeParse(record["id"]);
  const id = idRead.success ? idRead.data : null;
  if ("method" in record) {
    if (typeof record["method"] !== "string" || !methods.includes(record["method"])) {
      return { kind: "invalid", id, error: { code: "UNKNOWN_METHOD", message: `unknown method ${JSON.stringify(String(record["method"]).slice(0, 64))}` } };
    }
    const request = requests.safeParse(value);
    return request.success ? { kind: "request", request: request.data } : { kind: "invalid", id, error: { code: "BAD_MESSAGE", message: `invalid ${record["method"]} request: ${firstIssue(request.error)}` } };
  }
  const response = channelResponseSchema.safeParse(value);
  return response.success ? { kind: "response", response: response.data } : { kind: "invalid", id, error: { code: "BAD_MESSAGE", message: "neither a request nor a response" } };
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  return issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message;
}

export const BROKER_METHODS: readonly BrokerMethod[] = ["ping", "disconnect", "start", "terminate"];
export const AGENT_METHODS: readonly AgentMethod[] = ["ping", "heartbeat"];
