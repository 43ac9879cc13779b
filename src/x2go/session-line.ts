/**
 * A session as one `x2golistsessions` line, the `SESSION_INFO` of a selectsession answer. Pure.
 *
 * Fields: `pid|session_name|display|hostname|status|created|cookie|client_ip|gr_port|snd_port|
 * last_time|user|age_s|sshfs_port|tekictrl|tekidata`. The broker knows the name, host, state,
 * user and start time from the agent's heartbeat; the rest is filled so that the line parses
 * (x2goclient needs at least 10 fields and reads name, display, host and status): pid 0, an
 * all-zero cookie, client address `0.0.0.0` (unknown), every port `-1`, the last time equal to
 * the creation time, and the age in seconds since then. Times are UTC, `YYYY-MM-DDTHH:MM:SS`.
 */
import type { PoolSession } from "../pool/select-request.ts";
import { x2goText } from "./x2go-text.ts";

const UNKNOWN_COOKIE = "0".repeat(32);
const UNKNOWN_ADDRESS = "0.0.0.0";
const NO_PORT = "-1";

/**
 * A node-reported field: `x2goText` (no line break, no `<br>`), and `_` for `|`, which separates
 * fields, and for `:`, so that no field holds x2goclient's `SESSION_INFO:` or `SERVER:` markers.
 */
function field(value: string): string {
  return x2goText(value).replace(/[|:]/g, "_");
}

function timestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19);
}

/** The display number: the agent's `display` (`:50`, `50`, `:50.0`), else the one in an X2Go session name. */
function displayNumber(session: PoolSession): string {
  const reported = session.display === undefined ? null : /^:?(\d+)/.exec(session.display);
  const fromName = /^.+?-(\d+)-\d+_st/.exec(session.id);
  return reported?.[1] ?? fromName?.[1] ?? "-1";
}

/** The `x2golistsessions` line for `session`, as seen at `nowMs`. */
export function sessionInfoLine(session: PoolSession, nowMs: number): string {
  const created = timestamp(session.startedAt);
  const ageSeconds = Math.max(0, Math.floor((nowMs - session.startedAt) / 1000));
  return [
    "0",
    field(session.id),
    displayNumber(session),
    field(session.hostname),
    session.state === "suspended" ? "S" : "R",
    created,
    UNKNOWN_COOKIE,
    UNKNOWN_ADDRESS,
    NO_PORT,
    NO_PORT,
    created,
    field(session.user),
    String(ageSeconds),
    NO_PORT,
    NO_PORT,
    NO_PORT,
  ].join("|");
}
