/**
 * What a launcher reads on stdin (decision 10, FastX's job-scheduling contract): one JSON object
 * and a newline. The broker's `start` command carries a `StartRequest`; the agent adds `action`
 * and `node`, and for `status` and `stop` the `handle` the launcher itself answered last time.
 * Runtime-neutral (zod only), so the broker can share these schemas on the control channel.
 */
import { z } from "zod";

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

export const launchNodeSchema = z.strictObject({ serverId: z.string().min(1).max(64), hostname: z.string().min(1).max(253) });
export type LaunchNode = z.infer<typeof launchNodeSchema>;

const withNode = startRequestSchema.extend({ node: launchNodeSchema });

/** The JSON on a launcher's stdin, by action. */
export const launcherInputSchema = z.discriminatedUnion("action", [
  withNode.extend({ action: z.literal("start") }),
  /** Asked every status interval while the session is queued, and now and then while it runs without a pid. */
  withNode.extend({ action: z.literal("status"), handle: boundedJsonObjectSchema }),
  /** Ends the session; `reason` is what the user or admin gave. */
  withNode.extend({ action: z.literal("stop"), handle: boundedJsonObjectSchema, reason: z.string().max(1024) }),
]);
export type LauncherInput = z.infer<typeof launcherInputSchema>;
export type LauncherAction = LauncherInput["action"];
