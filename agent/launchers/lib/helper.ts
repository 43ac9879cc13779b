/**
 * Calls the privileged helper `as-user` (next to this file) the way the sudoers rule allows:
 * `sudo -n <its real path> ARGS`, no password, no prompt. An agent already running as root calls
 * it directly. The helper's stderr becomes the launcher's message for the user.
 */
import { join } from "node:path";
import { runHelper } from "./launcher-io.ts";

/** The path the sudoers rule must name (symlinks resolved: Node loads modules by real path). */
export const AS_USER = join(import.meta.dirname, "as-user");

/** Below the agent's default launcher timeout (30 s), so the helper's own message gets through. */
const HELPER_TIMEOUT_MS = 25_000;

export function asUser(args: readonly string[]): Promise<string> {
  return process.getuid?.() === 0 ? runHelper(AS_USER, args, HELPER_TIMEOUT_MS) : runHelper("sudo", ["-n", AS_USER, ...args], HELPER_TIMEOUT_MS);
}

export const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length > 0 && value.every((word) => typeof word === "string");
export const isGeometry = (value: unknown): value is string => typeof value === "string" && /^[1-9][0-9]{2,4}x[1-9][0-9]{2,4}$/.test(value);
export const isDepth = (value: unknown): value is number => value === 16 || value === 24 || value === 32;
