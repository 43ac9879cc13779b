/**
 * The wire protocol between the broker and the node agent. Runtime-neutral: imports only zod,
 * so the Worker and the agent (Node) share one definition of every message.
 */
import { z } from "zod";

/** Default heartbeat interval; a node is `down` after `MISSED_BEATS_BEFORE_DOWN` of them. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
export const MIN_HEARTBEAT_INTERVAL_MS = 100;
export const MAX_HEARTBEAT_INTERVAL_MS = 300_000;
export const MISSED_BEATS_BEFORE_DOWN = 3;
/** Heartbeat bodies larger than this are refused with 413. */
export const MAX_HEARTBEAT_BODY_BYTES = 64 * 1024;
/** A heartbeat JWT may live at most this long (exp - iat), and the broker allows this much skew. */
export const MAX_HEARTBEAT_TOKEN_LIFETIME_SECONDS = 60;
export const CLOCK_SKEW_SECONDS = 30;
export const HEARTBEAT_AUDIENCE = "broker:heartbeat";
/** Audience of the token a node signs to replace its own key (`POST /v1/agent/rekey`). */
export const REKEY_AUDIENCE = "broker:rekey";
/** Audience of the token a node signs to open its control channel (`GET /v1/agent/channel`, src/channel-protocol.ts). */
export const CHANNEL_AUDIENCE = "broker:channel";

/**
 * Bounds on what a node may report (everything a node sends is untrusted): times are epoch ms
 * before 2100-01-01, so every view can format them; other numbers stay far inside what views,
 * sorting and arithmetic handle.
 */
export const MAX_EPOCH_MS = 4_102_444_800_000;
export const MAX_REPORTED_NUMBER = 1e15;
const epochMs = z.number().int().nonnegative().max(MAX_EPOCH_MS);
const finite = z.number().finite().min(-MAX_REPORTED_NUMBER).max(MAX_REPORTED_NUMBER);

const hostnamePattern = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export const poolNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "pool names are 1-63 chars of a-z, 0-9, '-' and '_'");

export const serverIdSchema = z.string().regex(/^srv_[A-Za-z0-9]{10,40}$/, "not a serverId");

export const hostnameSchema = z.string().min(1).max(253).regex(hostnamePattern, "not a hostname");

/** Static data: flat JSON facts about a node an admin or the agent declares (gpu, maxSessions, users…). */
export const staticDataSchema = z
  .record(
    z.string().min(1).max(64),
    z.union([
      z.string().max(1024),
      finite,
      z.boolean(),
      z.null(),
      z.array(z.union([z.string().max(256), finite, z.boolean()])).max(256),
    ]),
  )
  .refine((value) => Object.keys(value).length <= 64, "at most 64 static data keys");
export type StaticData = z.infer<typeof staticDataSchema>;

/** An Ed25519 public key as a JWK (the agent's identity). */
export const ed25519PublicJwkSchema = z
  .object({
    kty: z.literal("OKP"),
    crv: z.literal("Ed25519"),
    x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "x must be a 32-byte base64url value"),
  })
  .strip();
export type Ed25519PublicJwk = z.infer<typeof ed25519PublicJwkSchema>;

/** An absolute http(s) or ws(s) URL: how the broker reaches the node's desktop endpoint. */
export const originUrlSchema = z
  .string()
  .max(2048)
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    return ["http:", "https:", "ws:", "wss:"].includes(new URL(value).protocol);
  }, "origin must be an absolute http(s) or ws(s) URL");

/** `host:port` or `host` a client connects to directly in redirect mode. */
export const clientAddressSchema = z
  .string()
  .max(300)
  .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "client address must be host or host:port (no IPv6 literal)");

export const enrolRequestSchema = z
  .object({
    token: z.string().min(16).max(128),
    publicKey: ed25519PublicJwkSchema,
    hostname: hostnameSchema,
    originUrl: originUrlSchema,
    clientAddress: clientAddressSchema.optional(),
    staticData: staticDataSchema.default({}),
  })
  .strict();
export type EnrolRequest = z.infer<typeof enrolRequestSchema>;

export const enrolResponseSchema = z.object({
  serverId: serverIdSchema,
  pool: poolNameSchema,
  intervalMs: z.number().int().positive(),
  /**
   * base64url HMAC key for verifying the broker's relay assertions (`X-Broker-Assertion`,
   * HS256, audience `node:<serverId>`), new on every enrolment and re-key; absent when the
   * broker has no SIGNING_KEY.
   */
  assertionKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/).optional(),
  /** False while the node waits for an admin's approval: it beats, but gets no sessions. */
  approved: z.boolean().default(true),
});
export type EnrolResponse = z.infer<typeof enrolResponseSchema>;

/** `starting`: launched, waiting for a scheduler (not connectable yet). */
export const sessionStateSchema = z.enum(["starting", "running", "suspended"]);

/**
 * What `x2golistsessions` says of an X2Go session beyond the common fields (agent/sessions/x2go.ts).
 * The broker hands it back in the X2Go answers' SESSION_INFO (src/x2go/session-line.ts), so that
 * x2goclient resumes the real session: its agent's pid, its X cookie (hex, as `mcookie` prints it)
 * and its forwarded ports on the node.
 */
export const x2goSessionSchema = z
  .object({
    /** x2goagent's pid; Linux allows at most 2^22. */
    pid: z.number().int().positive().max(4_194_304).optional(),
    cookie: z.string().regex(/^[0-9A-Fa-f]{1,64}$/, "an X2Go cookie is 1-64 hex digits").optional(),
    graphicsPort: z.number().int().min(1).max(65_535).optional(),
    soundPort: z.number().int().min(1).max(65_535).optional(),
    sshfsPort: z.number().int().min(1).max(65_535).optional(),
  })
  .strip();
export type X2goSession = z.infer<typeof x2goSessionSchema>;

/** One desktop session on a node, as the agent reports it. Times are epoch milliseconds. */
export const nodeSessionSchema = z
  .object({
    id: z.string().min(1).max(256),
    user: z.string().min(1).max(256),
    state: sessionStateSchema,
    startedAt: epochMs,
    display: z.string().max(64).optional(),
    clientIp: z.string().max(64).optional(),
    lastActiveAt: epochMs.optional(),
    /** Set by the `x2go` session source. */
    x2go: x2goSessionSchema.optional(),
    /** The profile a launched session was started with. */
    profileId: z.string().max(64).optional(),
    /** A launched session's last word from its launcher (queue position, reason), for the user. */
    message: z.string().max(1024).optional(),
  })
  .strip();
export type NodeSession = z.infer<typeof nodeSessionSchema>;

export const heartbeatBodySchema = z
  .object({
    /** 1, 5 and 15 minute load averages. */
    loadAvg: z.tuple([finite.nonnegative(), finite.nonnegative(), finite.nonnegative()]),
    cpuCount: z.number().int().positive().max(65_536),
    cpuMhz: finite.nonnegative(),
    memTotalBytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    memAvailableBytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    sessions: z.array(nodeSessionSchema).max(1000),
    users: z.array(z.string().min(1).max(256)).max(1000),
    staticData: staticDataSchema.default({}),
    metrics: z.record(z.string().min(1).max(64), z.union([finite, z.string().max(256), z.boolean()])).default({}),
  })
  .strict();
export type HeartbeatBody = z.infer<typeof heartbeatBodySchema>;

/**
 * Claims of the JWT a node signs with its Ed25519 key for every heartbeat (alg EdDSA), and, with
 * audience REKEY_AUDIENCE, for a re-key, and with CHANNEL_AUDIENCE, to open its control channel.
 * `seq` is shared: any accepted request consumes it.
 */
export const heartbeatClaimsSchema = z.object({
  iss: serverIdSchema,
  aud: z.enum([HEARTBEAT_AUDIENCE, REKEY_AUDIENCE, CHANNEL_AUDIENCE]),
  pool: poolNameSchema,
  iat: z.number().int(),
  exp: z.number().int(),
  /** Strictly increasing per node; a beat whose seq is not above the last accepted one is refused. */
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** base64url SHA-256 of the exact request body bytes (of no bytes for the channel upgrade): binds the token to this body. */
  bh: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});
export type HeartbeatClaims = z.infer<typeof heartbeatClaimsSchema>;

/** `pending`: enrolled in a pool that requires approval, not approved yet (no placements). */
export const nodeStatusSchema = z.enum(["up", "down", "draining", "pending"]);
export type NodeStatus = z.infer<typeof nodeStatusSchema>;

export const heartbeatReplySchema = z.object({
  status: nodeStatusSchema,
  draining: z.boolean(),
  intervalMs: z.number().int().positive(),
});
export type HeartbeatReply = z.infer<typeof heartbeatReplySchema>;

/** The broker's error envelope, for every 4xx/5xx answer. */
export const errorEnvelopeSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), requestId: z.string().optional() }),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

/** A node replacing its own key, signed with the current one (REKEY_AUDIENCE); the origin may change too. */
export const rekeyRequestSchema = z
  .object({
    publicKey: ed25519PublicJwkSchema,
    originUrl: originUrlSchema,
    clientAddress: clientAddressSchema.optional(),
  })
  .strict();
export type RekeyRequest = z.infer<typeof rekeyRequestSchema>;

export const AGENT_PATHS = {
  enrol: "/v1/agent/enrol",
  rekey: "/v1/agent/rekey",
  heartbeat: "/v1/agent/heartbeat",
  channel: "/v1/agent/channel",
} as const;
