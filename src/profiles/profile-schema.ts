/**
 * Session profiles as admins write them (JSON, validated here at the trust boundary) and as
 * they are stored. A profile names a pool, how clients reach the chosen node (`relay` through
 * the broker, or `redirect` to the node's client-facing address as X2Go's broker does), an
 * optional host subset of the pool, an optional balancing policy overriding the pool's, an ACL
 * (X2Go semantics, see acl.ts) and further X2Go client keys passed through to X2Go clients.
 */
import { z } from "zod";
import { policySchema } from "../balancer/policy.ts";
import { boundedJsonObjectSchema, launcherNameSchema } from "../channel-protocol.ts";
import { hostnameSchema, poolNameSchema } from "../protocol.ts";
import { serviceNameSchema } from "../tunnels/service-name.ts";
import { profileAclSchema } from "./acl-schema.ts";

export const MAX_PROFILE_HOSTS = 256;
export const MAX_X2GO_OPTIONS = 128;
/** A user may hold a few desktops at once (a suspended one and a new one, say), not a pool's worth. */
export const DEFAULT_SESSIONS_PER_USER = 3;
export const MAX_SESSIONS_PER_USER = 100;
/** X2Go's default command (python-x2go `X2GO_SESSIONPROFILE_DEFAULTS`). */
export const DEFAULT_COMMAND = "TERMINAL";

/** What older versions refused too: C0 control characters and DEL. */
const C0_OR_DEL = /^[^\x00-\x1f\x7f]*$/;
/** Characters some reader takes for a line end: C0, DEL, C1 (NEL) and U+2028/2029. */
const LINE_BREAKING = /[\p{Cc}\u2028\u2029]/u;
/** x2goclient turns every `<br>` of a listing into a line break before reading it as INI. */
const X2GO_BREAK = /<br>/i;

type TextSchema = (max: number) => z.ZodString;

/**
 * Profile text as written (API, config import, X2Go conf import): no line break of any kind and
 * no `<br>` in any case, either of which would let a value become keys of its own in an X2Go
 * listing. A nested form (`<b<br>r>`) holds a `<br>` itself, and with control characters refused
 * no removal of one can join the text around it into a `<br>`.
 */
const writtenText: TextSchema = (max) =>
  z
    .string()
    .max(max)
    .refine((text) => !LINE_BREAKING.test(text), "control characters and line separators are not allowed")
    .refine((text) => !X2GO_BREAK.test(text), "`<br>` is not allowed: x2goclient reads it as a line break, i.e. as a new key");

/**
 * Profile text as read back from D1: what older versions accepted, so that a row written before
 * the stricter check still loads. The X2Go answers encode it (src/x2go/x2go-text.ts).
 */
const storedText: TextSchema = (max) => z.string().max(max).regex(C0_OR_DEL, "control characters are not allowed");

export const profileIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, "a profile id is 1-64 chars of A-Z, a-z, 0-9, '.', '_' and '-'");

export const profileModeSchema = z.enum(["relay", "redirect"]);
export type ProfileMode = z.infer<typeof profileModeSchema>;

export const portSchema = z.number().int().min(1).max(65_535);

/**
 * One host of a profile. `name` is the node's hostname as enrolled; `address` is the
 * client-facing DNS name or IPv4 address for redirects (no IPv6 literal: X2Go clients split
 * `SERVER:<host>:<port>` on ':'); `port` overrides the profile's SSH port for this host.
 */
export const profileHostSchema = z.strictObject({
  name: hostnameSchema,
  address: hostnameSchema.optional(),
  port: portSchema.optional(),
});
export type ProfileHost = z.infer<typeof profileHostSchema>;

/** Keys the profile holds as fields of its own, or that configure the broker rather than the client. */
const RESERVED_OPTION_KEYS = new Set(["name", "host", "command"]);

/**
 * The profile schemas over one kind of text. Further X2Go client keys (geometry, sound, sshport,
 * …) are stored as given; which ones reach a client is the X2Go route's choice. `acl-*` and
 * `broker-*` keys are refused: ACLs are `acl`, and broker behaviour is the pool's policy.
 */
/** Bounds of a profile's wait line. */
export const MAX_QUEUE_LENGTH = 10_000;
export const MAX_QUEUE_WAIT_SECONDS = 86_400;

/** `queue`: whether starts wait in line when the pool is full, how many may wait, for how long. */
export const profileQueueSchema = z.strictObject({
  enabled: z.boolean().default(true),
  maxLength: z.number().int().min(1).max(MAX_QUEUE_LENGTH).default(100),
  maxWaitSeconds: z.number().int().min(10).max(MAX_QUEUE_WAIT_SECONDS).default(600),
});
export type ProfileQueue = z.infer<typeof profileQueueSchema>;

function profileSchemas(text: TextSchema) {
  const x2goOptions = z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "an option key is 1-64 chars of A-Z, a-z, 0-9, '.', '_' and '-'"),
      z.union([text(1024), z.number().finite(), z.boolean(), z.array(text(256)).max(64)]),
    )
    .superRefine((options, ctx) => {
      const keys = Object.keys(options);
      if (keys.length > MAX_X2GO_OPTIONS) ctx.addIssue({ code: "custom", message: `at most ${MAX_X2GO_OPTIONS} options` });
      for (const key of keys) {
        if (/^(acl|broker)-/.test(key)) ctx.addIssue({ code: "custom", path: [key], message: "acl-* and broker-* keys are not client options" });
        if (RESERVED_OPTION_KEYS.has(key)) ctx.addIssue({ code: "custom", path: [key], message: `${key} is a profile field, not an option` });
      }
      const port = options["sshport"];
      if (port !== undefined && !portSchema.safeParse(port).success) {
        ctx.addIssue({ code: "custom", path: ["sshport"], message: "sshport is a port number (1-65535)" });
      }
    });
  const body = z.strictObject({
    name: text(128).min(1),
    pool: poolNameSchema,
    mode: profileModeSchema,
    /** Empty: every server of the pool. */
    hosts: z
      .array(profileHostSchema)
      .max(MAX_PROFILE_HOSTS)
      .default([])
      .refine((hosts) => new Set(hosts.map((host) => host.name)).size === hosts.length, "host names must be unique"),
    command: text(1024).min(1).default(DEFAULT_COMMAND),
    policy: policySchema.nullable().default(null),
    acl: profileAclSchema.default({}),
    x2goOptions: x2goOptions.default({}),
    /** Sessions plus pending starts one user may hold in the pool when starting through this profile. */
    maxSessionsPerUser: z.number().int().min(1).max(MAX_SESSIONS_PER_USER).default(DEFAULT_SESSIONS_PER_USER),
    /** The TCP service of the profile's nodes that users may reach through the relay (`ssh` for X2Go), or null. */
    service: serviceNameSchema.nullable().default(null),
    /**
     * The node launcher that creates each new session (decision 10: `{ name: "xvnc", params: {…} }`,
     * an executable in the agent's launchers directory), or null: sessions are whatever nodes report.
     */
    launcher: z.strictObject({ name: launcherNameSchema, params: boundedJsonObjectSchema.default({}) }).nullable().default(null),
    /** A wait line for starts that find every server full (DCV's EnqueueRequest), or null: such a start is 503. */
    queue: profileQueueSchema.nullable().default(null),
  });
  return { x2goOptions, body, profile: body.extend({ id: profileIdSchema }) };
}

const written = profileSchemas(writtenText);


export const x2goOptionsSchema = written.x2goOptions;
export type X2goOptions = z.infer<typeof x2goOptionsSchema>;

/** Everything but the id: the body of `PUT /v1/admin/profiles/:id` (a full replacement). */
export const profileBodySchema = written.body;

/** A whole profile: the body of `POST /v1/admin/profiles` and of each imported profile. */
export const profileSchema = written.profile;
export type ProfileInput = z.input<typeof profileSchema>;
export type ProfileSpec = z.output<typeof profileSchema>;
export type ProfileBody = z.output<typeof profileBodySchema>;

/** A profile row's fields as read back from D1 (see `storedText`). */
export const storedProfileSchema = profileSchemas(storedText).profile;

/** A stored profile as the API shows it. Timestamps are epoch milliseconds. */
export interface Profile extends ProfileSpec {
  createdAt: number;
  updatedAt: number;
}
