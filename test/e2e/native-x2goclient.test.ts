/**
 * x2goclient (Qt, under Xvfb) through the edge (issue 17): pointed at the `edge-desktop` helper's
 * plain endpoint with `--broker-noauth` (the helper is signed in; the user types no broker
 * password) and `--sessionid`, it lists the profiles and selects one as the existing X2Go suite
 * does, connects by SSH to the local port the helper put in the answer, which tunnels through
 * the relay to the node's sshd, logs in with the user's key (the profile's `autologin`, the key in
 * an ssh-agent of the suite's own) and starts a real X2Go session there. Every part real but
 * Cloudflare's network (edge-stand-in.ts). Root only.
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { type RunningHelper, startHelper } from "../harness/edge-desktop.ts";
import { waitFor } from "../harness/wait.ts";
import { type NativeCluster, PROFILE, startNativeCluster } from "./native-cluster.ts";
import { x2goSessionsOf } from "./native-node.ts";
import { spawnLogged } from "./procs.ts";
import { e2eSuite } from "./suite.ts";

const execFileAsync = promisify(execFile);
const suite = e2eSuite("e2e-native-x2goclient");
const NODE = "x2goclient-native-1";

let cluster: NativeCluster;
let helper: RunningHelper;

beforeAll(() =>
  suite.guard("setup", async () => {
    // autologin: x2goclient logs in with the user's default SSH key, so no password dialog waits for a click.
    cluster = await startNativeCluster(suite, { login: "natcarol", hostnames: [NODE], sshdLogLevel: "DEBUG1", x2goOptions: { autologin: true } });
    helper = await startHelper(["x2go", "--listen", "127.0.0.1:0"], cluster.configDir, join(suite.dir, "helper.log"));
    suite.defer(() => helper.stop());
  }),
);

describe("x2goclient through edge-desktop x2go", () => {
  it("lists the profiles, selects one, reaches the node's sshd through the tunnel and starts a real X2Go session there", async () => {
    const home = join(suite.dir, "x2goclient-home");
    mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
    await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(home, ".ssh", "id_ed25519")]);
    writeFileSync(join(cluster.sshd.authorizedKeysDir, cluster.login), readFileSync(join(home, ".ssh", "id_ed25519.pub")), { mode: 0o644 });
    // libssh looks for default keys in the passwd entry's home (root's here), not $HOME: the key goes through an agent of the suite's own.
    const agentSocket = join(suite.dir, "ssh-agent.sock");
    const agent = spawnLogged("ssh-agent", "ssh-agent", ["-D", "-a", agentSocket], { logFile: join(suite.dir, "ssh-agent.log") });
    suite.defer(() => agent.stop());
    await waitFor(() => existsSync(agentSocket), 10_000, "ssh-agent's socket");
    await execFileAsync("ssh-add", [join(home, ".ssh", "id_ed25519")], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
    const brokerUrl = `http://${cluster.login}@127.0.0.1:${helper.port}/plain/`;
    const args = [`--broker-url=${brokerUrl}`, "--broker-noauth", `--sessionid=${PROFILE}`, "--add-to-known-hosts", "--no-menu", "--bypass-cleanup-helper", "--debug"];
    const client = spawnLogged("x2goclient", "timeout", ["120", "x2goclient", ...args], {
      logFile: join(suite.dir, "x2goclient.log"),
      env: { ...process.env, HOME: home, DISPLAY: cluster.display, LANG: "C.UTF-8", XDG_RUNTIME_DIR: home, SSH_AUTH_SOCK: agentSocket },
    });
    suite.defer(() => client.stop());
    const tasks = () => cluster.edge.requests.filter((request) => request.path === "/plain/").map((request) => request.task);
    await waitFor(() => tasks().includes("listsessions"), 60_000, "x2goclient's listsessions");
    await waitFor(() => tasks().includes("selectsession"), 60_000, "x2goclient's selectsession");
    const sshdLog = () => readFileSync(cluster.sshd.proc.logFile, "utf8");
    await waitFor(() => /remote software version libssh/.test(sshdLog()), 60_000, "x2goclient's SSH connection at the node's sshd");
    expect(helper.log).toContain(`X2Go session of profile ${PROFILE} on ${NODE}: ssh through 127.0.0.1:`);
    await waitFor(() => sshdLog().includes(`Accepted publickey for ${cluster.login}`), 60_000, "x2goclient's key login");
    const running = async () => (await x2goSessionsOf(cluster.login)).find((session) => session.status === "R" && session.pid > 0);
    await waitFor(async () => (await running()) !== undefined, 90_000, "x2goclient's X2Go session running");
    const name = (await running())?.name ?? "";
    await waitFor(async () => (await cluster.brokerSessions()).some((session) => session.id === name && session.hostname === NODE), 30_000, "the agent reporting it");
  }, 300_000);
});
