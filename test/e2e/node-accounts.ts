/**
 * Accounts and the one privilege for the launcher suites (root only): desktop users (alice, bob),
 * the agent's unprivileged user `edge-agent`, the shipped sudoers rule installed for this
 * checkout's helper path (checked with visudo, removed afterwards), launcher processes spawned as
 * `edge-agent`, and commands run as a given user. Users stay (they are reused by later runs).
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { SpawnLauncher } from "../../agent/launch/run-launcher.ts";
import { REPO_ROOT } from "./suite.ts";

const execFileAsync = promisify(execFile);

export const AGENT_USER = "edge-agent";
export const LAUNCHERS_DIR = join(REPO_ROOT, "agent", "launchers");
/** The helper's real path: what sudo compares with the rule, and what the launchers call. */
export const HELPER = realpathSync(join(LAUNCHERS_DIR, "lib", "as-user"));
const SHIPPED_RULE = join(LAUNCHERS_DIR, "sudoers.edge-agent");
const INSTALLED_RULE = "/etc/sudoers.d/edge-agent-e2e";

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("the launcher e2e suites create users and a sudoers rule: run them as root");
}

async function idOf(login: string): Promise<{ uid: number; gid: number } | null> {
  try {
    const [uid, gid] = await Promise.all([execFileAsync("id", ["-u", login]), execFileAsync("id", ["-g", login])]);
    return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  } catch {
    return null;
  }
}

/** Creates a regular user with a home directory unless it exists; its uid and gid. */
export async function ensureUser(login: string): Promise<{ uid: number; gid: number }> {
  if (!(await idOf(login))) await execFileAsync("useradd", ["--create-home", "--shell", "/bin/bash", login]);
  const ids = await idOf(login);
  if (!ids) throw new Error(`could not create ${login}`);
  return ids;
}

/** The agent's own system user, as agent/README.md creates it. */
export async function ensureAgentUser(): Promise<{ uid: number; gid: number }> {
  if (!(await idOf(AGENT_USER))) {
    await execFileAsync("useradd", ["--system", "--user-group", "--home-dir", "/nonexistent", "--no-create-home", "--shell", "/usr/sbin/nologin", AGENT_USER]);
  }
  const ids = await idOf(AGENT_USER);
  if (!ids) throw new Error(`could not create ${AGENT_USER}`);
  return ids;
}

/**
 * Installs the shipped rule with this checkout's helper path (mode 0440, after `visudo -cf` of
 * both the shipped file and the rendered one); returns the step that removes it.
 */
export async function installSudoersRule(): Promise<() => void> {
  await execFileAsync("visudo", ["-cf", SHIPPED_RULE]);
  const rendered = readFileSync(SHIPPED_RULE, "utf8").replaceAll("/opt/edge-broker/agent/launchers/lib/as-user", HELPER);
  writeFileSync(INSTALLED_RULE, rendered, { mode: 0o440 });
  try {
    await execFileAsync("visudo", ["-cf", INSTALLED_RULE]);
  } catch (error) {
    rmSync(INSTALLED_RULE, { force: true });
    throw error;
  }
  return () => rmSync(INSTALLED_RULE, { force: true });
}

export function sudoersRuleInstalled(): boolean {
  return existsSync(INSTALLED_RULE);
}

/** Spawns launchers as `edge-agent`, as an agent installed by agent/README.md runs them. */
export function spawnAs(ids: { uid: number; gid: number }): SpawnLauncher {
  return (file, args, options) => spawn(file, [...args], { ...options, env: options.env as NodeJS.ProcessEnv, uid: ids.uid, gid: ids.gid });
}

/** Runs `command` as `login` (runuser, no shell); its stdout and stderr, and whether it succeeded. */
export async function runAs(login: string, command: string, args: string[], timeoutMs = 10_000): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync("runuser", ["-u", login, "--", command, ...args], { timeout: timeoutMs });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** As `login`, connects to a unix socket and reads 12 bytes: "RFB 003.008\n", or the error code (EACCES, …). */
export async function readSocketAs(login: string, path: string): Promise<string> {
  const script = `const s = require("node:net").connect(process.argv[1]);
s.once("data", (d) => { process.stdout.write(d.subarray(0, 12).toString("latin1")); s.destroy(); });
s.once("error", (e) => { process.stdout.write(e.code ?? e.message); });`;
  const result = await runAs(login, process.execPath, ["-e", script, path]);
  return result.stdout;
}
