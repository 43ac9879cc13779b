/**
 * A session as one `x2golistsessions` line, the `SESSION_INFO` of a selectsession answer. Pure.
 *
 * Fields: `pid|session_name|display|hostname|status|created|cookie|client_ip|gr_port|snd_port|
 * last_time|user|age_s|sshfs_port|tekictrl|tekidata`. x2goclient takes the line as it would take
 * x2golistsessions' output: its "Select session" dialog shows the status, the command and type
 * (read from the name's `_st<type><command>_`), the host, times and client address; a resume
 * connects to the line's host (x2goclient 4.1.2) and hands the cookie and ports to nxproxy. The
 * node's `x2go` session source reports them as x2golistsessions printed them; what a node did not
 * report is filled so that the line still parses: pid 0, an all-zero cookie, client address
 * `0.0.0.0`, every port `-1`, the last time equal to the creation time. The age is counted from
 * the creation time to now, as x2go does. Times are UTC, `YYYY-MM-DDTHH:MM:SS`; `hostname` is the
 * caller's (the answer's `SERVER:` host).
 *
 * Everything here came from a node: text goes through `field`, the cookie is hex or the default,
 * numbers are written only when they are integers in range (the wire schema bounds them already;
 * this holds for values it did not check too).
 */
import type { NodeSession } from "../protocol.ts";
import { x2goText } from "./x2go-text.ts";

/** What the line is built from: a node's session and the host to write in it. */
export type LineSession = Pick<NodeSession, "id" | "user" | "state" | "startedAt"> &
  Partial<Pick<NodeSession, "display" | "clientIp" | "lastActiveAt" | "x2go">> & { hostname: string };

const UNKNOWN_COOKIE = "0".repeat(32);
const UNKNOWN_ADDRESS = "0.0.0.0";
const NO_PORT = "-1";
const MAX_PID = 4_194_304;

/**
 * A node-reported field: `x2goText` (no line break, no `<br>`), and `_` for `|`, which separates
 * fields, and for `:`, so that no field holds x2goclient's `SESSION_INFO:` or `SERVER:` markers.
 */
function field(value: string): string {
  return x2goText(value).replace(/[|:]/g, "_");
}

/** `value` in decimal when it is an integer in [min, max], else `fallback`. */
function integer(value: unknown, min: number, max: number, fallback: string): string {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max ? String(value) : fallback;
}

const port = (value: unknown) => integer(value, 1, 65_535, NO_PORT);

function timestamp(epochMs: number): string {
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? "1970-01-01T00:00:00" : date.toISOString().slice(0, 19);
}

/** The display number: the agent's `display` (`:50`, `50`, `:50.0`), else the one in an X2Go session name. */
function displayNumber(session: LineSession): string {
  const reported = session.display === undefined ? null : /^:?(\d{1,9})/.exec(session.display);
  const fromName = /^.+?-(\d{1,9})-\d+_st/.exec(session.id);
  return reported?.[1] ?? fromName?.[1] ?? "-1";
}

/** The cookie as hex digits only, else the all-zero one. */
function cookie(value: unknown): string {
  return typeof value === "string" && /^[0-9A-Fa-f]{1,64}$/.test(value) ? value : UNKNOWN_COOKIE;
}

/** The `x2golistsessions` line for `session`, as seen at `nowMs`. */
export function sessionInfoLine(session: LineSession, nowMs: number): string {
  const x2go = session.x2go ?? {};
  const created = timestamp(session.startedAt);
  const ageSeconds = Math.max(0, Math.floor((nowMs - session.startedAt) / 1000));
  return [
    integer(x2go.pid, 1, MAX_PID, "0"),
    field(session.id),
    displayNumber(session),
    field(session.hostname),
    session.state === "suspended" ? "S" : "R",
    created,
    cookie(x2go.cookie),
    session.clientIp ? field(session.clientIp) : UNKNOWN_ADDRESS,
    port(x2go.graphicsPort),
    port(x2go.soundPort),
    timestamp(session.lastActiveAt ?? session.startedAt),
    field(session.user),
    String(ageSeconds),
    port(x2go.sshfsPort),
    NO_PORT,
    NO_PORT,
  ].join("|");
}
