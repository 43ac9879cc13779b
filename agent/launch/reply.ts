/**
 * What a launcher's run means. Its output is untrusted text: it must be UTF-8, a JSON answer must
 * match the schema below (unknown fields are dropped), a running session's endpoint must pass the
 * endpoint policy, and every message is cleaned of control characters and clipped to 1 KiB
 * before it reaches a user. Plain text on stdout means "queued, show this" (FastX's contract).
 */
import { z } from "zod";
import { clipMessage } from "../../src/core/clip.ts";
import { err, ok, type Result } from "../../src/core/result.ts";
import { describeEndpoint, type Endpoint, parseEndpoint } from "../gateway/endpoint.ts";
import { endpointRefusal } from "./endpoint-policy.ts";
import { boundedJsonObjectSchema, type JsonObject, type LauncherAction } from "./request.ts";
import type { LauncherRun } from "./run-launcher.ts";

/** pid_max is at most 2^22 on Linux; 0 and 1 (init) are never a session's. */
const pidSchema = z.number().int().min(2).max(4_194_304);
const textSchema = z.string().max(64 * 1024);

const replySchema = z.discriminatedUnion("state", [
  z.object({
    state: z.literal("running"),
    endpoint: z.string().max(2048),
    message: textSchema.optional(),
    /** How a user would name the desktop, e.g. ":3". */
    display: z.string().max(64).optional(),
    /** The session's main process: when it exits, the session has ended. */
    pid: pidSchema.optional(),
    /** The process group the agent kills on stop when the launcher's own stop fails. */
    pgid: pidSchema.optional(),
    /** The launcher's own notes (job id, display, …), given back on `status` and `stop`. */
    handle: boundedJsonObjectSchema.optional(),
  }),
  z.object({ state: z.literal("queued"), message: textSchema.optional(), pid: pidSchema.optional(), pgid: pidSchema.optional(), handle: boundedJsonObjectSchema.optional() }),
  z.object({ state: z.literal("failed"), message: textSchema.optional() }),
  z.object({ state: z.literal("stopped"), message: textSchema.optional() }),
]);

export interface ProcessRefs {
  pid?: number;
  pgid?: number;
}

export type LauncherReply =
  | ({ state: "running"; endpoint: Endpoint; message?: string; display?: string; handle: JsonObject } & ProcessRefs)
  | ({ state: "queued"; message: string; handle: JsonObject } & ProcessRefs)
  | { state: "failed"; message: string }
  | { state: "stopped"; message?: string };

export interface ReplyContext {
  action: LauncherAction;
  /** `launchers.endpointHosts`. */
  endpointHosts: readonly string[];
  /** pids a launcher must never name (the agent's own pid and process group). */
  forbiddenPids: readonly number[];
}

/** Control characters (but line breaks and tabs) become spaces; the text is trimmed and clipped. */
export function cleanMessage(text: string): string {
  return clipMessage(text.replace(/\r\n?/g, "\n").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, " ").trim());
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function decode(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The message of a failed run: its stderr, else its stdout, else how it ended. */
export function failureMessage(run: LauncherRun): string {
  const text = decode(run.stderr)?.trim() || decode(run.stdout)?.trim() || "";
  const how = run.signal ? `was killed by ${run.signal}` : `exited with status ${run.code}`;
  return text ? cleanMessage(text) : `the launcher ${how} without a message`;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  return `${issue.path.map(String).join(".") || "(answer)"}: ${issue.message}`;
}

/** The launcher's answer, or the message to show for a failed or unusable run. */
export function interpretRun(run: LauncherRun, context: ReplyContext): Result<LauncherReply, string> {
  if (run.code !== 0) return err(failureMessage(run));
  const text = decode(run.stdout);
  if (text === null) return err("the launcher's output is not UTF-8 text");
  const trimmed = text.trim();
  if (trimmed === "") {
    return context.action === "stop" ? ok({ state: "stopped" }) : err("the launcher printed nothing");
  }
  if (!trimmed.startsWith("{")) {
    // Plain text: FastX shows it to the user while the scheduler works.
    return context.action === "stop" ? ok({ state: "stopped", message: cleanMessage(trimmed) }) : ok({ state: "queued", message: cleanMessage(trimmed), handle: {} });
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch (error) {
    return err(cleanMessage(`the launcher printed invalid JSON: ${error instanceof Error ? error.message : String(error)}`));
  }
  const parsed = replySchema.safeParse(json);
  if (!parsed.success) return err(cleanMessage(`the launcher's answer is invalid: ${firstIssue(parsed.error)}`));
  const reply = parsed.data;
  if (reply.state === "failed") return ok({ state: "failed", message: cleanMessage(reply.message ?? "") || "the launcher reported a failure without a message" });
  if (reply.state === "stopped") return ok(reply.message === undefined ? { state: "stopped" } : { state: "stopped", message: cleanMessage(reply.message) });
  const refs = processRefs(reply, context.forbiddenPids);
  if (!refs.ok) return refs;
  if (reply.state === "queued") return ok({ state: "queued", message: cleanMessage(reply.message ?? "") || "queued", handle: reply.handle ?? {}, ...refs.value });
  const endpoint = parseEndpoint(reply.endpoint);
  if (!endpoint) return err(cleanMessage(`the launcher's endpoint ${JSON.stringify(reply.endpoint)} is not tcp://host:port, unix:/path, ws:// or wss://`));
  const refusal = endpointRefusal(endpoint, context.endpointHosts);
  if (refusal) return err(cleanMessage(`the launcher's endpoint ${describeEndpoint(endpoint)} is refused: ${refusal}`));
  return ok({
    state: "running",
    endpoint,
    handle: reply.handle ?? {},
    ...(reply.message ? { message: cleanMessage(reply.message) } : {}),
    ...(reply.display ? { display: cleanMessage(reply.display) } : {}),
    ...refs.value,
  });
}

function processRefs(reply: ProcessRefs, forbidden: readonly number[]): Result<ProcessRefs, string> {
  for (const [field, value] of [["pid", reply.pid], ["pgid", reply.pgid]] as const) {
    if (value !== undefined && forbidden.includes(value)) return err(`the launcher's ${field} ${value} is the agent's own`);
  }
  return ok({ ...(reply.pid ? { pid: reply.pid } : {}), ...(reply.pgid ? { pgid: reply.pgid } : {}) });
}
