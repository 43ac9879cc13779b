/**
 * The JSON frontend's bodies, for python-x2go and pyhoca-cli (x2gobroker `XB/web/json.py`).
 * Pure. The body is what Python's `json.dumps(payload, indent=4, sort_keys=True)` prints: keys
 * sorted at every level, four-space indent, non-ASCII escaped as `\uXXXX`.
 *
 * Keys: `task` (always), `auth-status`, `next-authid`, `profiles` (`{id: {key: value}}`, typed
 * values, `host` an array) for listprofiles, and `selected_session` for selectsession: `{}`
 * without a profile id, else `{server, port}` with the port as a string of digits, plus
 * `session_info` when the user is sent back to a session. Every text value goes through
 * `x2goText` (the server through `x2goHost`), as in the plain frontend.
 */
import type { X2goOutcome } from "./broker.ts";
import { jsonProfileKeys, type X2goKeys } from "./profile-keys.ts";
import { x2goHost, x2goText } from "./x2go-text.ts";

/** `task=testcon` answers an empty body (x2gobroker `json.py` l.183-191). */
export const JSON_TESTCON_BODY = "";

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, item]) => [key, sortedKeys(item)]));
}

/** Python's `json.dumps(value, indent=4, sort_keys=True)` (ensure_ascii on). */
export function pythonJsonDumps(value: unknown): string {
  return JSON.stringify(sortedKeys(value), null, 4).replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function encodedKeys(keys: X2goKeys): X2goKeys {
  const encode = (value: X2goKeys[string]) => (typeof value === "string" ? x2goText(value) : Array.isArray(value) ? value.map(x2goText) : value);
  return Object.fromEntries(Object.entries(keys).map(([key, value]) => [key, encode(value)]));
}

/** The body of a successful JSON answer. */
export function renderJson(outcome: X2goOutcome): string {
  const payload: Record<string, unknown> = { task: outcome.task, "auth-status": "Access granted", "next-authid": outcome.nextAuthid };
  if (outcome.profiles) payload["profiles"] = Object.fromEntries(outcome.profiles.map((profile) => [x2goText(profile.id), encodedKeys(jsonProfileKeys(profile.keys))]));
  if (outcome.selection !== undefined) {
    const selection = outcome.selection;
    payload["selected_session"] =
      selection === null
        ? {}
        : { server: x2goHost(selection.server), port: String(selection.port), ...(selection.sessionInfo ? { session_info: selection.sessionInfo } : {}) };
  }
  return pythonJsonDumps(payload);
}
