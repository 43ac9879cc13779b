/**
 * Parses the output of a custom session command: JSON `{ "sessions": NodeSession[], "users"?: string[] }`
 * or a bare `NodeSession[]`, validated with the wire-protocol schemas.
 */
import { z } from "zod";
import { nodeSessionSchema } from "../../src/protocol.ts";
import type { ParsedSessions } from "./x2go.ts";

const userSchema = z.string().min(1).max(256);

const sessionListSchema = z.array(nodeSessionSchema);
const sessionReportSchema = z.object({ sessions: sessionListSchema, users: z.array(userSchema).optional() });

export interface CommandSessions extends ParsedSessions {
  /** Users the command reported; when absent, the distinct users of `sessions`. */
  users?: string[];
}

/** @throws Error with the first schema problem if the output is not valid. */
export function parseCommandSessions(text: string): CommandSessions {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error("session command did not print JSON");
  }
  const parsed = Array.isArray(json)
    ? sessionListSchema.transform((sessions) => ({ sessions, users: undefined })).safeParse(json)
    : sessionReportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") || "(top level)";
    throw new Error(`session command output: ${where}: ${issue?.message ?? "invalid"}`);
  }
  const { sessions, users } = parsed.data;
  return { sessions, parseErrors: 0, ...(users ? { users } : {}) };
}
