/**
 * How the runner reads a step's answer (FastX return values, decision 4 in docs/decisions.md), checked strictly
 * so that a buggy step cannot place a session on a server it was not offered:
 * - a non-empty string must be a serverId from the step's input list;
 * - an array must hold only servers from the input list (it may drop and reorder them);
 * - any falsy value passes;
 * - built-ins may also answer `{ serverId, reason }`; admin scripts may not, and any other value
 *   from a script is junk.
 */
import { clipMessage } from "../core/clip.ts";
import type { StepResult } from "./step.ts";
import type { ServerView } from "./types.ts";

export type Verdict =
  | { kind: "chose"; serverId: string; reason?: string }
  | { kind: "filtered"; servers: ServerView[] }
  | { kind: "passed" }
  | { kind: "invalid"; message: string };

/** Reads a built-in's answer; `label` names the step in messages. */
export function readBuiltinResult(result: StepResult, servers: readonly ServerView[], label: string): Verdict {
  if (!result) return { kind: "passed" };
  if (typeof result === "string") return checkChoice(result, undefined, servers, label);
  if (Array.isArray(result)) return checkSubset(result.map((server) => server.serverId), servers, label);
  return checkChoice(result.serverId, result.reason, servers, label);
}

/** Reads a script's answer, which crossed a sandbox boundary and is therefore unknown. */
export function readScriptResult(result: unknown, servers: readonly ServerView[], label: string): Verdict {
  if (!result) return { kind: "passed" };
  if (typeof result === "string") return checkChoice(result, undefined, servers, label);
  if (Array.isArray(result)) {
    const ids: string[] = [];
    for (const item of result) {
      const serverId = isRecord(item) ? item["serverId"] : undefined;
      if (typeof serverId !== "string") return junk(result, label);
      ids.push(serverId);
    }
    return checkSubset(ids, servers, label);
  }
  return junk(result, label);
}

function checkChoice(serverId: string, reason: string | undefined, servers: readonly ServerView[], label: string): Verdict {
  if (!servers.some((server) => server.serverId === serverId)) {
    return { kind: "invalid", message: `${label} chose ${quote(serverId)}, which is not in its input list` };
  }
  return reason === undefined ? { kind: "chose", serverId } : { kind: "chose", serverId, reason };
}

/** Maps ids back to the input's own server objects, in the step's order, without duplicates. */
function checkSubset(ids: readonly string[], servers: readonly ServerView[], label: string): Verdict {
  const byId = new Map(servers.map((server) => [server.serverId, server]));
  const unknown = ids.filter((id) => !byId.has(id));
  if (unknown.length > 0) {
    const shown = [...new Set(unknown)].slice(0, 5).map(quote).join(", ");
    return { kind: "invalid", message: `${label} returned servers that are not in its input list: ${shown}` };
  }
  const kept = [...new Set(ids)].map((id) => byId.get(id) as ServerView);
  return { kind: "filtered", servers: kept };
}

function junk(value: unknown, label: string): Verdict {
  return { kind: "invalid", message: `script returned junk: ${preview(value)} (${label})` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Bytes of a script's answer quoted in a message: enough to recognise it. */
const PREVIEW_BYTES = 80;

/** A serverId the script made up, quoted for a message: clipped first, since it may be megabytes. */
function quote(serverId: string): string {
  return JSON.stringify(clipMessage(serverId, PREVIEW_BYTES));
}

function preview(value: unknown): string {
  if (typeof value === "function") return "a function";
  let text: string;
  try {
    text = typeof value === "object" ? (JSON.stringify(value) ?? typeof value) : String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return clipMessage(text, PREVIEW_BYTES);
}
