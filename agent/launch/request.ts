/**
 * What a launcher reads on stdin (decision 10, FastX's job-scheduling contract): one JSON object
 * and a newline. The broker's `start` command carries a `StartRequest`; the agent adds `action`
 * and `node`, and for `status` and `stop` the `handle` the launcher itself answered last time.
 * The broker's part (the `start` command) is in src/channel-protocol.ts, shared with the broker.
 */
import { z } from "zod";
import { boundedJsonObjectSchema, startRequestSchema } from "../../src/channel-protocol.ts";

export { boundedJsonObjectSchema, type JsonObject, LAUNCHER_NAME_PATTERN, launcherNameSchema, type StartRequest, startRequestSchema } from "../../src/channel-protocol.ts";

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
