/**
 * OpenSSH through the edge (issue 17): `ssh -o ProxyCommand='edge-desktop connect --profile P %h'`
 * runs a command on the node, every part real but Cloudflare's network (edge-stand-in.ts). ssh is
 * given the node's hostname only: the helper gets a service ticket for it, the relay passes the
 * WebSocket to the agent's gateway, which alone knows the sshd port. Strict host-key checking
 * against our sshd's key shows that the right sshd answered. Root only.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { EDGE_DESKTOP } from "../harness/edge-desktop.ts";
import { type NativeCluster, PROFILE, startNativeCluster } from "./native-cluster.ts";
import { e2eSuite } from "./suite.ts";

const execFileAsync = promisify(execFile);
const suite = e2eSuite("e2e-native-ssh");
const NODE = "ssh-native-1";

let cluster: NativeCluster;
let keyPath: string;
let knownHosts: string;

/** ssh to the node through the helper, with our key and strict host-key checking. */
function ssh(args: string[], options: { profile?: string; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const proxy = `${process.execPath} ${EDGE_DESKTOP} connect --config-dir ${cluster.configDir} --profile ${options.profile ?? PROFILE} %h`;
  const sshArgs = ["-F", "none", "-o", "BatchMode=yes", "-o", `ProxyCommand=${proxy}`, "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-i", keyPath, `${cluster.login}@${NODE}`, ...args];
  return new Promise((resolve) => {
    const child = execFile("ssh", sshArgs, { timeout: 60_000, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.input ?? "");
  });
}

beforeAll(() =>
  suite.guard("setup", async () => {
    cluster = await startNativeCluster(suite, { login: "natbob", hostnames: [NODE] });
    keyPath = join(suite.dir, "id_ed25519");
    await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyPath]);
    const { stdout: publicKey } = await execFileAsync("cat", [`${keyPath}.pub`]);
    writeFileSync(join(cluster.sshd.authorizedKeysDir, cluster.login), publicKey, { mode: 0o644 });
    knownHosts = join(suite.dir, "known_hosts");
    writeFileSync(knownHosts, `${NODE} ${cluster.sshd.hostKey}\n`);
  }),
);

describe("ssh with edge-desktop connect as its ProxyCommand", () => {
  it("runs a command on the node as the user, the sshd port never given to ssh", async () => {
    const run = await ssh(["id -un; echo \"$SSH_CONNECTION\""]);
    expect(run.stderr).not.toContain("edge-desktop:");
    expect(run.code).toBe(0);
    const [user, connection] = run.stdout.trim().split("\n");
    expect(user).toBe(cluster.login);
    // The node's sshd sees the gateway's loopback connection on its own port.
    expect(connection?.split(" ")[3]).toBe(String(cluster.sshd.port));
  });

  it("carries a stream both ways: 4 MiB in, its checksum out", async () => {
    const input = "0123456789abcdef".repeat(256 * 1024);
    const run = await ssh(["sha256sum"], { input });
    const { createHash } = await import("node:crypto");
    expect(run.stdout.trim().split(" ")[0]).toBe(createHash("sha256").update(input).digest("hex"));
  });

  it("fails with the broker's reason for a profile the user may not use", async () => {
    const run = await ssh(["true"], { profile: "no-such-profile" });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("edge-desktop: no profile named no-such-profile (NOT_FOUND)");
  });
});
