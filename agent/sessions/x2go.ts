/**
 * Parses `x2golistsessions --all-servers` output, one session per line:
 * `pid|session_name|display|hostname|status|created|cookie|client_ip|gr_port|snd_port|last_time|user|age_s|sshfs_port|tekictrl|tekidata`
 * (x2gobroker `XB/agent.py`; x2golistsessions(8)). The two Telekinesis ports are only there when
 * Telekinesis is enabled, so a line has 14 to 16 fields. Status is R (running) or S (suspended);
 * `x2golistsessions_root` also prints failed sessions (F), which are no sessions and no error.
 * The fields x2goclient needs to resume (pid, cookie, ports) go into `x2go`; a field that is not
 * what x2go writes is left out, and a session the wire schema would refuse is skipped.
 */
import { type NodeSession, nodeSessionSchema, type X2goSession } from "../../src/protocol.ts";

const MIN_FIELDS = 14;
const MAX_FIELDS = 16;
/** Linux's PID_MAX_LIMIT (2^22), the protocol's bound. */
const MAX_PID = 4_194_304;

export interface ParsedSessions {
  sessions: NodeSession[];
  /** Non-empty lines that were not a valid session and were skipped. */
  parseErrors: number;
}

/** x2go writes `2026-11-20T10:11:12` in the server's local time; returns epoch ms or null. */
export function parseX2goTime(text: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(year, month - 1, day, hour, minute, second);
  // Date rolls over impossible values (month 13, day 32); refuse them instead.
  if (date.getMonth() !== month - 1 || date.getDate() !== day || date.getHours() !== hour) return null;
  return date.getTime();
}

/** A decimal in [min, max], else undefined (x2go writes empty fields and `-1` for no port). */
function boundedInt(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^\d{1,7}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

function x2goFields(fields: readonly string[]): X2goSession {
  const port = (index: number) => boundedInt(fields[index], 1, 65_535);
  const entries = {
    pid: boundedInt(fields[0], 1, MAX_PID),
    cookie: /^[0-9A-Fa-f]{1,64}$/.test(fields[6] ?? "") ? fields[6] : undefined,
    graphicsPort: port(8),
    soundPort: port(9),
    sshfsPort: port(13),
  };
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as X2goSession;
}

type LineResult = NodeSession | "failed" | null;

function parseLine(line: string): LineResult {
  const fields = line.split("|");
  if (fields.length < MIN_FIELDS || fields.length > MAX_FIELDS) return null;
  const [, name = "", display = "", , status = "", created = "", , clientIp = "", , , lastTime = "", user = ""] = fields;
  if (status === "F") return "failed";
  const state = status === "R" ? "running" : status === "S" ? "suspended" : null;
  const startedAt = parseX2goTime(created);
  if (!name || !user || !state || startedAt === null) return null;
  const lastActiveAt = parseX2goTime(lastTime);
  const x2go = x2goFields(fields);
  const parsed = nodeSessionSchema.safeParse({
    id: name,
    user,
    state,
    startedAt,
    ...(display && display.length <= 64 ? { display } : {}),
    ...(clientIp && clientIp.length <= 64 ? { clientIp } : {}),
    ...(lastActiveAt !== null ? { lastActiveAt } : {}),
    ...(Object.keys(x2go).length > 0 ? { x2go } : {}),
  });
  return parsed.success ? parsed.data : null;
}

export function parseX2goSessions(text: string): ParsedSessions {
  const sessions: NodeSession[] = [];
  let parseErrors = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const session = parseLine(line);
    if (session === "failed") continue;
    if (session) sessions.push(session);
    else parseErrors += 1;
  }
  return { sessions, parseErrors };
}
