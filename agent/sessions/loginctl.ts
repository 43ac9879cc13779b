/**
 * Parses `loginctl list-sessions --output=json`: an array of
 * `{ session, uid, user, seat, tty, state?, idle?, class? }` (fields vary with the systemd version).
 */
import { z } from "zod";
import type { NodeSession } from "../../src/protocol.ts";
import type { ParsedSessions } from "./x2go.ts";

const loginctlSessionSchema = z.looseObject({
  session: z.union([z.string(), z.number()]).transform(String),
  uid: z.number().optional(),
  user: z.string().optional(),
  seat: z.string().nullish(),
  tty: z.string().nullish(),
  state: z.string().optional(),
  idle: z.boolean().optional(),
  class: z.string().optional(),
});
type LoginctlSession = z.infer<typeof loginctlSessionSchema>;

/** `active` and `online` are logged-in sessions; without a state, a seat or tty that is not idle. */
function stateOf(entry: LoginctlSession): NodeSession["state"] {
  if (entry.state !== undefined) return entry.state === "active" || entry.state === "online" ? "running" : "suspended";
  if (entry.idle === true) return "suspended";
  return entry.seat || entry.tty ? "running" : "suspended";
}

/** @throws Error if the output is not a JSON array. Entries that do not fit are counted and skipped. */
export function parseLoginctlSessions(text: string): ParsedSessions {
  const json: unknown = JSON.parse(text.trim() || "[]");
  if (!Array.isArray(json)) throw new Error("loginctl output is not a JSON array");
  const sessions: NodeSession[] = [];
  let parseErrors = 0;
  for (const item of json) {
    const parsed = loginctlSessionSchema.safeParse(item);
    if (!parsed.success) {
      parseErrors += 1;
      continue;
    }
    const entry = parsed.data;
    // systemd ≥ 256 lists each user's service manager as a session of class "manager"; it is not a login.
    if (entry.class?.startsWith("manager")) continue;
    const user = entry.user ?? (entry.uid !== undefined ? String(entry.uid) : "");
    if (!entry.session || !user) {
      parseErrors += 1;
      continue;
    }
    sessions.push({
      id: entry.session.slice(0, 256),
      user: user.slice(0, 256),
      state: stateOf(entry),
      startedAt: 0,
      ...(entry.seat || entry.tty ? { display: (entry.seat || entry.tty || "").slice(0, 64) } : {}),
    });
  }
  return { sessions, parseErrors };
}
