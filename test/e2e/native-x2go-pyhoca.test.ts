/**
 * Native X2Go through the edge (issue 17), every part real but Cloudflare's network (a loopback
 * stand-in that sets CF-Connecting-IP, edge-stand-in.ts): Debian's pyhoca-cli talks to the
 * `edge-desktop` helper's X2Go endpoint, which passes its broker requests to the broker as the
 * signed-in user and rewrites the selected `SERVER:` to a local port; that port tunnels through
 * the relay to the agent's node gateway and on to our own sshd, in front of Debian's x2goserver.
 * The client is never told the sshd port. The session starts (x2goagent as the user, listed by
 * `x2golistsessions`, reported by the agent to the broker), is suspended, and after the helper
 * comes back from another address (127.0.0.2) the broker sends the user back to the node holding
 * it, although the other node is now the less loaded, and pyhoca-cli resumes the same session.
 * Root only; needs `npm run test:e2e:setup`.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall } from "../harness/client.ts";
import { type RunningHelper, startHelper } from "../harness/edge-desktop.ts";
import { waitFor } from "../harness/wait.ts";
import { type NativeCluster, PROFILE, startNativeCluster } from "./native-cluster.ts";
import { x2goSessionsOf } from "./native-node.ts";
import { spawnLogged } from "./procs.ts";
import { e2eSuite } from "./suite.ts";

const execFileAsync = promisify(execFile);
const suite = e2eSuite("e2e-native-pyhoca");
const NODE_A = "x2go-native-a";
const NODE_B = "x2go-native-b";

let cluster: NativeCluster;
let helper: RunningHelper;
let pyhocaRuns = 0;

/** pyhoca-cli against the helper's JSON endpoint: the broker password is a dummy, the helper signs in for it. */
function pyhocaArgs(extra: string[]): string[] {
  const brokerUrl = `http://${cluster.login}@127.0.0.1:${helper.port}/json/`;
  const session = ["-u", cluster.login, "--password", cluster.password, "--force-password", "--add-to-known-hosts", "-g", "800x600", "-q", "lan", "--sound", "none"];
  return ["--broker-url", brokerUrl, "--broker-password", "not-used", "-P", PROFILE, ...session, ...extra];
}

function pyhocaEnv(): NodeJS.ProcessEnv {
  const home = join(suite.dir, "pyhoca-home");
  mkdirSync(home, { recursive: true });
  return { ...process.env, PATH: "/usr/bin:/bin", HOME: home, DISPLAY: cluster.display, LANG: "C.UTF-8" };
}

/** pyhoca-cli in the background: it stays in the foreground while the session runs. */
function startPyhoca(extra: string[]): void {
  const run = ++pyhocaRuns;
  const proc = spawnLogged(`pyhoca-${run}`, "timeout", ["300", "/usr/bin/pyhoca-cli", ...pyhocaArgs(extra)], { logFile: join(suite.dir, `pyhoca-${run}.log`), env: pyhocaEnv() });
  suite.defer(() => proc.stop());
}

/** pyhoca-cli to its end (a suspend). */
async function runPyhoca(extra: string[]): Promise<string> {
  const run = ++pyhocaRuns;
  const output = await execFileAsync("timeout", ["120", "/usr/bin/pyhoca-cli", ...pyhocaArgs(extra)], { env: pyhocaEnv(), timeout: 130_000 }).then(
    ({ stdout, stderr }) => `${stdout}\n${stderr}`,
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ""}\n${error.stderr ?? ""}`,
  );
  writeFileSync(join(suite.dir, `pyhoca-${run}.log`), output);
  return output;
}

function serverAction(hostname: string, action: "drain" | "undrain"): Promise<unknown> {
  return adminCall(cluster.broker, `/v1/admin/pools/default/servers/${cluster.nodes.get(hostname)?.serverId}/${action}`, "POST");
}

beforeAll(() =>
  suite.guard("setup", async () => {
    cluster = await startNativeCluster(suite, { login: "natalice", hostnames: [NODE_A, NODE_B] });
    // The new session goes to A: B takes none while draining.
    await serverAction(NODE_B, "drain");
    helper = await startHelper(["x2go", "--listen", "127.0.0.1:0", "--source-address", "127.0.0.1"], cluster.configDir, join(suite.dir, "helper-1.log"));
    suite.defer(() => helper.stop());
  }),
);

describe("pyhoca-cli through edge-desktop x2go", () => {
  it("starts a real X2Go session, suspends it, and resumes it on the same node from another address", async () => {
    // Start: x2goagent runs as the user, x2golistsessions lists it, the agent reports it to the broker.
    startPyhoca([]);
    // x2golistsessions shows the agent's pid once x2goagent runs (0 before).
    const running = async () => (await x2goSessionsOf(cluster.login)).find((session) => session.status === "R" && session.pid > 0);
    await waitFor(async () => (await running()) !== undefined, 90_000, "a running X2Go session");
    const { name: sessionName, pid: agentPid } = (await running()) ?? { name: "", pid: 0 };
    const { stdout: owner } = await execFileAsync("ps", ["-o", "user=,comm=", "-p", String(agentPid)]);
    expect(owner.trim()).toMatch(/^natalice\s+x2goagent/);
    const { stdout: listed } = await execFileAsync("runuser", ["-u", cluster.login, "--", "x2golistsessions"]);
    expect(listed).toContain(`|${sessionName}|`);
    await waitFor(async () => (await cluster.brokerSessions()).some((session) => session.id === sessionName && session.state === "running" && session.hostname === NODE_A), 30_000, "the agent reporting the session");
    expect(helper.log).toContain(`X2Go session of profile ${PROFILE} on ${NODE_A}: ssh through 127.0.0.1:`);

    // Suspend.
    expect(await runPyhoca(["-S", sessionName])).not.toContain("Traceback");
    await waitFor(async () => (await x2goSessionsOf(cluster.login)).some((session) => session.name === sessionName && session.status === "S"), 60_000, "the session suspended");
    await waitFor(async () => (await cluster.brokerSessions()).some((session) => session.id === sessionName && session.state === "suspended"), 30_000, "the broker seeing it suspended");

    // Resume from 127.0.0.2, with B now the less loaded node: the broker sends the user back to A.
    await serverAction(NODE_B, "undrain");
    await helper.stop();
    helper = await startHelper(["x2go", "--listen", "127.0.0.1:0", "--source-address", "127.0.0.2"], cluster.configDir, join(suite.dir, "helper-2.log"));
    startPyhoca(["-R", sessionName]);
    const resumed = async () => (await x2goSessionsOf(cluster.login)).find((session) => session.name === sessionName && session.status === "R" && session.pid > 0);
    await waitFor(async () => (await resumed()) !== undefined, 90_000, "the session running again");
    expect((await resumed())?.pid).toBe(agentPid);
    expect(helper.log).toContain(`X2Go session of profile ${PROFILE} on ${NODE_A}: ssh through 127.0.0.1:`);
    expect(helper.log).not.toContain(`on ${NODE_B}`);
    const fromNewAddress = cluster.edge.requests.filter((request) => request.address === "127.0.0.2");
    expect(fromNewAddress.some((request) => request.task === "selectsession")).toBe(true);
    expect(fromNewAddress.some((request) => request.path === `/v1/tunnels/${cluster.nodes.get(NODE_A)?.serverId}`)).toBe(true);
  }, 300_000);
});
