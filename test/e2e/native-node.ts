/**
 * A node for native clients on loopback (issue 17): a Unix account with a password, our own
 * sshd (a config, host key and authorized-keys directory of its own in the suite's directory, on
 * a random loopback port; the machine's sshd config is never touched), Debian's x2goserver behind
 * it, and a real agent whose node gateway maps the `ssh` service to that port and whose sessions
 * come from `x2golistsessions_root`. Only the agent knows the sshd port: clients get there through
 * the relay. Root only (accounts, sshd, x2goserver's session database). The accounts stay, as
 * the launcher suites' do.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { type AgentHandle, enrolAgent } from "../harness/agents.ts";
import type { BrokerEndpoint } from "../harness/client.ts";
import { freePort, portOpen } from "../harness/ports.ts";
import { ensureUser } from "./node-accounts.ts";
import { type Proc, spawnLogged, waitForProc } from "./procs.ts";

const execFileAsync = promisify(execFile);

/** Creates `login` if needed and sets its password (sshd checks it with PAM). */
export async function ensurePasswordUser(login: string, password: string): Promise<void> {
  await ensureUser(login);
  await new Promise<void>((resolve, reject) => {
    const child = execFile("chpasswd", (error) => (error ? reject(error) : resolve()));
    child.stdin?.end(`${login}:${password}\n`);
  });
}

export interface Sshd {
  port: number;
  proc: Proc;
  /** `<dir>/authorized_keys/<login>`: the keys sshd accepts for each user. */
  authorizedKeysDir: string;
  /** The host key's public line, for a known_hosts file. */
  hostKey: string;
}

/** Our own sshd for `users` on a random loopback port: password and key logins, sftp, nothing else. */
export async function startSshd(dir: string, users: string[], logLevel = "VERBOSE"): Promise<Sshd> {
  mkdirSync(dir, { recursive: true });
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const authorizedKeysDir = join(dir, "authorized_keys");
  mkdirSync(authorizedKeysDir, { recursive: true, mode: 0o755 });
  const hostKeyPath = join(dir, "host_ed25519");
  await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKeyPath]);
  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKeyPath}`,
      "PidFile none",
      "UsePAM yes",
      "PasswordAuthentication yes",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin no",
      `AllowUsers ${users.join(" ")}`,
      `AuthorizedKeysFile ${authorizedKeysDir}/%u`,
      "StrictModes no",
      "Subsystem sftp internal-sftp",
      "X11Forwarding no",
      "PrintMotd no",
      `LogLevel ${logLevel}`,
      "",
    ].join("\n"),
  );
  await execFileAsync("/usr/sbin/sshd", ["-t", "-f", config]);
  const proc = spawnLogged("sshd", "/usr/sbin/sshd", ["-D", "-e", "-f", config], { logFile: join(dir, "sshd.log") });
  await waitForProc(proc, () => portOpen(port), 10_000, "sshd listening");
  const { stdout } = await execFileAsync("cat", [`${hostKeyPath}.pub`]);
  return { port, proc, authorizedKeysDir, hostKey: stdout.trim() };
}

export interface X2goNodeOptions {
  hostname: string;
  dir: string;
  sshdPort: number;
  /** `x2golistsessions_root` by default: every user's X2Go sessions on this machine. */
  sessionCommand?: string;
}

/** Enrols and starts an agent whose gateway serves `ssh` (the sshd port, in its config only). */
export async function startX2goNode(broker: BrokerEndpoint, options: X2goNodeOptions): Promise<AgentHandle> {
  const gatewayPort = await freePort();
  const agent = await enrolAgent(broker, {
    hostname: options.hostname,
    dir: options.dir,
    staticData: {},
    originUrl: `http://127.0.0.1:${gatewayPort}/`,
    logFile: join(options.dir, "agent.log"),
    gateway: { listen: `127.0.0.1:${gatewayPort}`, services: { ssh: `tcp://127.0.0.1:${options.sshdPort}` } },
    sessionSource: { type: "x2go", command: options.sessionCommand ?? "/usr/sbin/x2golistsessions_root" },
  });
  agent.start();
  return agent;
}

/** Xvfb on a display it picks itself (-displayfd): where an X2Go client shows the session. */
export async function startXvfb(logFile: string): Promise<{ display: string; proc: Proc }> {
  const proc = spawnLogged("Xvfb", "Xvfb", ["-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset"], { logFile, extraStdio: ["pipe"] });
  const stream = proc.child.stdio[3] as NodeJS.ReadableStream;
  const display = await new Promise<string>((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error("Xvfb did not report a display within 15 s")), 15_000);
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      text += chunk;
      const match = /^(\d+)\n/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(`:${match[1]}`);
      }
    });
  });
  return { display, proc };
}

/** Every X2Go session of `login` on this machine, as `x2golistsessions_root` lists them: name, status, agent pid. */
export async function x2goSessionsOf(login: string): Promise<Array<{ name: string; status: string; pid: number }>> {
  const { stdout } = await execFileAsync("/usr/sbin/x2golistsessions_root", [], { timeout: 10_000 });
  return stdout
    .split("\n")
    .map((line) => line.split("|"))
    .filter((fields) => fields.length >= 12 && fields[11] === login)
    .map((fields) => ({ name: fields[1] ?? "", status: fields[4] ?? "", pid: Number(fields[0]) }));
}

/**
 * Ends every X2Go session of `login` (leftovers of an earlier run too: nothing cleans them up
 * without systemd): `x2goterminate-session` as the user, then the session's x2goagent, by the pid
 * x2golistsessions gives, if it still runs as the user (a suspended agent can outlive the
 * terminate; the session's programs end with their X server).
 */
export async function terminateX2goSessions(login: string): Promise<void> {
  const sessions = await x2goSessionsOf(login);
  for (const session of sessions) {
    if (session.status === "R" || session.status === "S") await execFileAsync("runuser", ["-u", login, "--", "x2goterminate-session", session.name], { timeout: 20_000 }).catch(() => undefined);
  }
  for (const { pid } of sessions) {
    if (pid > 0 && (await isAgentOf(login, pid))) await stopPid(pid);
  }
  await removeStaleXSockets();
}

/**
 * X display sockets nobody listens on any more (an x2goagent killed before it cleaned up): x2go
 * hands the next session the lowest display whose socket is free, so a stale one makes the next
 * suite's x2goagent fail (status F). Only sockets that refuse connections are removed.
 */
export async function removeStaleXSockets(): Promise<void> {
  const dir = "/tmp/.X11-unix";
  if (!existsSync(dir)) return; // no X server has run on this machine yet
  const names = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isSocket() && /^X\d+$/.test(entry.name)).map((entry) => join(dir, entry.name));
  for (const path of names) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = createConnection(path, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
    });
    if (refused) rmSync(path, { force: true });
  }
}

async function isAgentOf(login: string, pid: number): Promise<boolean> {
  const { stdout } = await execFileAsync("ps", ["-o", "user=,comm=", "-p", String(pid)]).catch(() => ({ stdout: "" }));
  return new RegExp(`^${login}\\s+x2goagent$`).test(stdout.trim());
}

/** SIGTERM, then SIGKILL after 2 s. */
async function stopPid(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  for (let waited = 0; waited < 2000 && alive(); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive()) process.kill(pid, "SIGKILL");
}
