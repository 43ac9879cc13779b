/** Turns the `sessionSource` config into a function that lists this node's desktop sessions. */
import type { AgentDeps } from "../deps.ts";
import type { SessionSourceConfig } from "../config.ts";
import { parseCommandSessions, type CommandSessions } from "./command.ts";
import { parseLoginctlSessions } from "./loginctl.ts";
import { parseX2goSessions } from "./x2go.ts";

/** Session commands may print at most this much; more is an error, not a silent cut. */
export const MAX_COMMAND_OUTPUT_BYTES = 1024 * 1024;

export type SessionSource = (signal: AbortSignal) => Promise<CommandSessions>;

/**
 * Splits a command line into a program and its arguments when it is plain words; anything a
 * shell would interpret (quotes, pipes, `$`, globs…) runs through `/bin/sh -c` instead.
 */
export function commandInvocation(command: string): { file: string; args: string[] } {
  const trimmed = command.trim();
  if (/^[\w@%+=:,./\s-]+$/.test(trimmed)) {
    const [file = "", ...args] = trimmed.split(/\s+/);
    return { file, args };
  }
  return { file: "/bin/sh", args: ["-c", trimmed] };
}

export function createSessionSource(
  config: SessionSourceConfig,
  deps: Pick<AgentDeps, "exec">,
  timeoutMs: number,
): SessionSource {
  const run = (command: string, signal: AbortSignal) => {
    const { file, args } = commandInvocation(command);
    return deps.exec(file, args, { timeoutMs, maxOutputBytes: MAX_COMMAND_OUTPUT_BYTES, signal });
  };
  switch (config.type) {
    case "none":
      return async () => ({ sessions: [], parseErrors: 0 });
    case "x2go":
      return async (signal) => parseX2goSessions(await run(config.command, signal));
    case "loginctl":
      return async (signal) =>
        parseLoginctlSessions(
          await deps.exec("loginctl", ["list-sessions", "--output=json", "--no-pager"], {
            timeoutMs,
            maxOutputBytes: MAX_COMMAND_OUTPUT_BYTES,
            signal,
          }),
        );
    case "command":
      return async (signal) => parseCommandSessions(await run(config.command, signal));
  }
}
