/**
 * Parses `x2golistsessions --all-servers` output, one session per line:
 * `pid|session_name|display|hostname|status|created|cookie|client_ip|gr_port|snd_port|last_time|user|age_s|sshfs_port|tekictrl|tekidata`
 * (x2gobroker `XB/agent.py`; x2golistsessions(8)). The two Telekinesis ports are only there when
 * Telekinesis is enabled, so a line has 14 to 16 fields. Status is R (running) or S (suspended).
 */
import type { NodeSession } from "../../src/protocol.ts";

const MIN_FIELDS = 14;
const MAX_FIELDS = 16;

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

function parseLine(line: string): NodeSession | null {
  const fields = line.split("|");
  if (fields.length < MIN_FIELDS || fields.length > MAX_FIELDS) return null;
  const [, name = "", display = "", , status = "", created = "", , clientIp = "", , , lastTime = "", user = ""] = fields;
  const state = status === "R" ? "running" : status === "S" ? "suspended" : null;
  const startedAt = parseX2goTime(created);
  if (!name || !user || !state || startedAt === null || name.length > 256 || user.length > 256) return null;
  const lastActiveAt = parseX2goTime(lastTime);
  return {
    id: name,
    user,
    state,
    startedAt,
    ...(display && display.length <= 64 ? { display } : {}),
    ...(clientIp && clientIp.length <= 64 ? { clientIp } : {}),
    ...(lastActiveAt !== null ? { lastActiveAt } : {}),
  };
}

export function parseX2goSessions(text: string): ParsedSessions {
  const sessions: NodeSession[] = [];
  let parseErrors = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const session = parseLine(line);
    if (session) sessions.push(session);
    else parseErrors += 1;
  }
  return { sessions, parseErrors };
}
