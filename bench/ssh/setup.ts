/**
 * The SSH bench's parts on loopback: our own sshd (a config, host key and authorized key of its
 * own; the machine's sshd is never touched) for the user running the bench, the broker (one
 * workerd), a real agent whose gateway serves `ssh` to that sshd, the `edge-desktop` helper
 * signed in and forwarding a local port to it, and HAProxy in TCP mode in front of the same sshd.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type AgentHandle, enrolAgent } from "../../test/harness/agents.ts";
import { type LocalBroker, startBroker } from "../../test/harness/broker.ts";
import { adminCall, listServers } from "../../test/harness/client.ts";
import { helperLogin, type RunningHelper, startHelper } from "../../test/harness/edge-desktop.ts";
import { freePort, portOpen } from "../../test/harness/ports.ts";
import { stopChild } from "../../test/harness/proc.ts";
import { waitFor } from "../../test/harness/wait.ts";
import { HAPROXY_PATH } from "../relay/endpoints.ts";

const execFileAsync = promisify(execFile);

export interface SshBenchParts {
  login: string;
  /** Client key and known-hosts settings every ssh run uses. */
  sshOptions: string[];
  sshdPort: number;
  edgePort: number;
  haproxyPort: number | null;
  haproxyVersion: string | null;
  sshVersion: string;
  /** Processes between the client and sshd on each path, for CPU per GB. */
  pids: { edge: number[]; haproxy: number[] };
  stop(): Promise<void>;
}

async function startSshd(dir: string, login: string): Promise<{ port: number; stop(): Promise<void> }> {
  const hostKey = join(dir, "host_ed25519");
  await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [`Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${hostKey}`, "PidFile none", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", `AllowUsers ${login}`, `AuthorizedKeysFile ${join(dir, "authorized_keys")}`, "StrictModes no", "PrintMotd no", "LogLevel ERROR", ""].join("\n"),
  );
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const child = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-2000)));
  await waitFor(() => portOpen(port), 10_000, `sshd on ${port} (${stderr})`, 50);
  return { port, stop: () => stopChild(child, 3_000) };
}

async function startTcpHaproxy(dir: string, backendPort: number): Promise<{ port: number; pid: number; version: string; stop(): Promise<void> } | null> {
  if (!existsSync(HAPROXY_PATH)) return null;
  const port = await freePort();
  const config = join(dir, "haproxy.cfg");
  writeFileSync(config, ["global", "  maxconn 1024", "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 300s", "  timeout server 300s", "listen ssh", `  bind 127.0.0.1:${port}`, `  server sshd 127.0.0.1:${backendPort}`, ""].join("\n"));
  const { stdout } = await execFileAsync(HAPROXY_PATH, ["-v"]);
  const child = spawn(HAPROXY_PATH, ["-db", "-f", config], { stdio: "ignore" });
  await waitFor(() => portOpen(port), 5_000, "haproxy", 50);
  return { port, pid: child.pid ?? 0, version: /version (\S+)/.exec(stdout)?.[1] ?? "unknown", stop: () => stopChild(child, 3_000) };
}

export async function startSshBenchParts(): Promise<SshBenchParts> {
  const dir = mkdtempSync(join(tmpdir(), "ssh-bench-"));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const login = userInfo().username;
    const key = join(dir, "id_ed25519");
    await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    writeFileSync(join(dir, "authorized_keys"), readFileSync(`${key}.pub`));
    const sshd = await startSshd(dir, login);
    cleanups.push(() => sshd.stop());
    const broker: LocalBroker = await startBroker({ port: await freePort(), logFile: join(dir, "broker.log") });
    cleanups.push(() => broker.stop());
    const gatewayPort = await freePort();
    const agent: AgentHandle = await enrolAgent(broker, {
      hostname: "ssh-bench-node",
      dir: join(dir, "node"),
      staticData: {},
      originUrl: `http://127.0.0.1:${gatewayPort}/`,
      logFile: join(dir, "agent.log"),
      gateway: { listen: `127.0.0.1:${gatewayPort}`, services: { ssh: `tcp://127.0.0.1:${sshd.port}` } },
    });
    agent.start();
    cleanups.push(() => agent.stop());
    await waitFor(async () => (await listServers(broker)).some((server) => server.status === "up"), 20_000, "the node up");
    await adminCall(broker, "/v1/admin/users", "POST", { login: "bench", password: "ssh-bench-password-1" });
    await adminCall(broker, "/v1/admin/profiles", "POST", { id: "ssh", name: "SSH", pool: "default", mode: "relay", service: "ssh" });
    const configDir = join(dir, "edge-desktop");
    await helperLogin(broker.url, "bench", "ssh-bench-password-1", configDir);
    const helper: RunningHelper = await startHelper(["forward", "--profile", "ssh", "--listen", "127.0.0.1:0", "ssh-bench-node"], configDir, join(dir, "helper.log"));
    cleanups.push(() => helper.stop());
    const haproxy = await startTcpHaproxy(dir, sshd.port);
    if (haproxy) cleanups.push(() => haproxy.stop());
    const { stderr: sshVersion } = await execFileAsync("ssh", ["-V"]);
    return {
      login,
      sshOptions: ["-F", "none", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"],
      sshdPort: sshd.port,
      edgePort: helper.port,
      haproxyPort: haproxy?.port ?? null,
      haproxyVersion: haproxy?.version ?? null,
      sshVersion: sshVersion.trim(),
      pids: { edge: [helper.child.pid ?? 0, broker.workerdPid ?? 0, agent.pid ?? 0].filter((pid) => pid > 0), haproxy: haproxy ? [haproxy.pid] : [] },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
