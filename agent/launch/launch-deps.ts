/**
 * The side effects of launching, injected (style rule 11): `node-launch-deps.ts` has the real
 * ones; tests run real launcher processes with fake clocks or process tables where that helps.
 */
import type { FileAccess, Timers } from "../deps.ts";
import type { LauncherFiles } from "./launcher-file.ts";
import type { RunDeps } from "./run-launcher.ts";

export interface LaunchDeps extends RunDeps, Timers {
  files: LauncherFiles;
  /** The agent's state directory files (launched-sessions.json). */
  fs: FileAccess;
  /**
   * Who a pid is, as an opaque string that changes when the pid is reused or the node reboots
   * (boot id and start time); null when no such process exists.
   */
  processIdentity(pid: number): Promise<string | null>;
  /** The agent's own pid and process group: never a session's. */
  selfPids: readonly number[];
  /** The Node the agent runs on, given to launchers as $EDGE_AGENT_NODE. */
  nodePath: string;
  /** Wall clock, epoch ms. */
  now: () => number;
  log: (line: string) => void;
}
