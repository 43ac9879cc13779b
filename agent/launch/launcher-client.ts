/**
 * One call of a launcher, end to end: find the file (launcher-file.ts), run it bounded
 * (run-launcher.ts), read its answer (reply.ts). At most MAX_CONCURRENT_RUNS launchers run at
 * once, so a burst of starts cannot fork without limit; the others wait their turn.
 */
import { err, type Result } from "../../src/core/result.ts";
import type { LaunchersConfig } from "./config.ts";
import type { LaunchDeps } from "./launch-deps.ts";
import { resolveLauncher } from "./launcher-file.ts";
import { interpretRun, type LauncherReply } from "./reply.ts";
import type { LauncherInput } from "./request.ts";
import { runLauncher } from "./run-launcher.ts";

export const MAX_CONCURRENT_RUNS = 8;

export type LaunchErrorCode = "launcher-unavailable" | "launcher-failed";

export interface LaunchError {
  code: LaunchErrorCode;
  /** For the user: the launcher's own words where it gave any, cleaned and clipped. */
  message: string;
}

export type CallLauncher = (input: LauncherInput) => Promise<Result<LauncherReply, LaunchError>>;

/** A counting semaphore: `run` waits until fewer than `limit` tasks are running. */
function createLimiter(limit: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

export function createLauncherClient(config: LaunchersConfig, deps: LaunchDeps): CallLauncher {
  const limit = createLimiter(MAX_CONCURRENT_RUNS);
  const env = { PATH: config.path, LANG: "C.UTF-8", EDGE_AGENT_NODE: deps.nodePath };
  return async (input) => {
    const file = await resolveLauncher(config.dir, input.profile.launcher, deps.files);
    if (!file.ok) return err({ code: "launcher-unavailable", message: file.error.message });
    const run = await limit(() => runLauncher({ file: file.value, input, cwd: config.dir, env, timeoutMs: config.timeoutMs, maxOutputBytes: config.maxOutputBytes }, deps));
    if (!run.ok) return err({ code: "launcher-failed", message: run.error.message });
    const reply = interpretRun(run.value, { action: input.action, endpointHosts: config.endpointHosts, forbiddenPids: deps.selfPids });
    if (!reply.ok) return err({ code: "launcher-failed", message: reply.error });
    return reply;
  };
}
