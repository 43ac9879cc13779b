/**
 * The sessions this agent launched, kept in `<stateDir>/launched-sessions.json` (mode 0600,
 * replaced atomically on every change) so that an agent restart finds its desktops again. The
 * file is read back through zod: a broken file is logged and set aside, never trusted.
 */
import { join } from "node:path";
import { z } from "zod";
import { errorMessage } from "../deps.ts";
import { writePrivateFile } from "../state.ts";
import type { LaunchDeps } from "./launch-deps.ts";
import { boundedJsonObjectSchema, startRequestSchema } from "./request.ts";

export const SESSIONS_FILE = "launched-sessions.json";

const pidSchema = z.number().int().min(2).max(4_194_304);

/** A watched process: its pid and who it was when the launcher named it (processIdentity). */
const processRefSchema = z.object({ pid: pidSchema, identity: z.string().max(128) });
export type ProcessRef = z.infer<typeof processRefSchema>;

export const launchedSessionSchema = startRequestSchema.extend({
  /** "starting": queued by the launcher (a scheduler's job waits); "running": connectable. */
  state: z.enum(["starting", "running"]),
  /** The endpoint as the launcher gave it (describeEndpoint form), once running. */
  endpoint: z.string().max(2048).optional(),
  message: z.string().max(4096).optional(),
  display: z.string().max(64).optional(),
  /** The session's main process: when it is gone, the session has ended. */
  pid: processRefSchema.optional(),
  /** The group killed on stop when the launcher's stop fails; `identity` is its leader's, if it had one. */
  pgid: z.object({ pid: pidSchema, identity: z.string().max(128).nullable() }).optional(),
  handle: boundedJsonObjectSchema,
  /** Epoch ms: when the start came, and when it became connectable. */
  startedAt: z.number().int().nonnegative(),
  runningSince: z.number().int().nonnegative().optional(),
});
export type LaunchedSession = z.infer<typeof launchedSessionSchema>;

const fileSchema = z.object({ version: z.literal(1), sessions: z.array(launchedSessionSchema).max(10_000) });

export interface SessionStore {
  load(): Promise<LaunchedSession[]>;
  /** Queues a write of `sessions`; writes never overlap and the last one wins. */
  save(sessions: readonly LaunchedSession[]): Promise<void>;
}

export function createSessionStore(stateDir: string, deps: Pick<LaunchDeps, "fs" | "log" | "now">): SessionStore {
  const path = join(stateDir, SESSIONS_FILE);
  let writing: Promise<void> = Promise.resolve();
  return {
    async load() {
      let text: string;
      try {
        text = await deps.fs.readText(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
        deps.log(`launch: cannot read ${path}: ${errorMessage(error)}; starting with no launched sessions`);
        return [];
      }
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        // handled below with the schema failure
      }
      const parsed = fileSchema.safeParse(json);
      if (parsed.success) return parsed.data.sessions;
      const aside = `${path}.broken-${deps.now()}`;
      await deps.fs.rename(path, aside).catch(() => undefined);
      deps.log(`launch: ${path} is not a valid session list; moved to ${aside}, starting with no launched sessions`);
      return [];
    },
    save(sessions) {
      const text = `${JSON.stringify({ version: 1, sessions }, null, 1)}\n`;
      writing = writing.then(
        () => writePrivateFile(deps.fs, path, text),
      ).catch((error: unknown) => deps.log(`launch: cannot write ${path}: ${errorMessage(error)}`));
      return writing;
    },
  };
}
