/**
 * Finds the executable a profile names. Only the admin's launcher directory is searched, and
 * never with a path from the broker: the name must match LAUNCHER_NAME_PATTERN (no '/', no '.'),
 * and the file, with every symlink resolved, must still lie inside the directory, be a regular
 * file, executable by the agent and not writable by every user.
 */
import { sep } from "node:path";
import { err, ok, type Result } from "../../src/core/result.ts";
import { LAUNCHER_NAME_PATTERN } from "./request.ts";

export interface LauncherFiles {
  /** fs.realpath: every symlink resolved; rejects (ENOENT, …) when the path does not exist. */
  realpath(path: string): Promise<string>;
  stat(path: string): Promise<{ isFile: boolean; mode: number }>;
  /** fs.access with X_OK for the agent's user. */
  isExecutable(path: string): Promise<boolean>;
}

export type LauncherLookupFailure = "bad-name" | "no-directory" | "not-found" | "outside-directory" | "not-a-file" | "not-executable" | "writable-by-others";

export interface LauncherLookupError {
  code: LauncherLookupFailure;
  message: string;
}

const failure = (code: LauncherLookupFailure, message: string) => err<LauncherLookupError>({ code, message });

/** The real path of launcher `name` in `dir`. */
export async function resolveLauncher(dir: string, name: string, files: LauncherFiles): Promise<Result<string, LauncherLookupError>> {
  if (!LAUNCHER_NAME_PATTERN.test(name)) return failure("bad-name", `${JSON.stringify(name.slice(0, 80))} is not a launcher name`);
  let realDir: string;
  try {
    realDir = await files.realpath(dir);
  } catch {
    return failure("no-directory", `the launcher directory ${dir} does not exist`);
  }
  let real: string;
  try {
    real = await files.realpath(`${realDir}${sep}${name}`);
  } catch {
    return failure("not-found", `no launcher "${name}" on this node`);
  }
  if (!real.startsWith(`${realDir}${sep}`)) return failure("outside-directory", `launcher "${name}" resolves outside the launcher directory`);
  const stats = await files.stat(real).catch(() => null);
  if (!stats?.isFile) return failure("not-a-file", `launcher "${name}" is not a regular file`);
  if ((stats.mode & 0o002) !== 0) return failure("writable-by-others", `launcher "${name}" is writable by every user; refusing to run it`);
  if ((stats.mode & 0o111) === 0 || !(await files.isExecutable(real))) return failure("not-executable", `launcher "${name}" is not executable`);
  return ok(real);
}
