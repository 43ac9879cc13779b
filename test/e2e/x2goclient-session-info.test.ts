/**
 * x2goclient's "Select session" list from the broker's SESSION_INFO (issue 14, item 5). In broker
 * mode x2goclient takes that line as x2golistsessions' output: its dialog shows the line's status,
 * command and type (from the session name), server, creation time, client address and session
 * id, and a resume hands the line's cookie and ports to nxproxy, whose cookie x2goagent checks.
 * (Debian's x2goclient 4.1.2.2 heads its first column "User" and fills it from the 15th field,
 * the Telekinesis port, which x2golistsessions writes as -1 without Telekinesis: that -1 is
 * x2goclient's, with x2gobroker too.) Here x2goclient (Qt, under Xvfb,
 * through the `edge-desktop` helper and the relay to our own sshd, as in
 * native-x2goclient.test.ts) starts a real X2Go session; it is suspended; the agent reports it
 * from `x2golistsessions_root`; the broker's SESSION_INFO holds the node's pid, name, display,
 * status, cookie, client address and ports; a second x2goclient lists exactly that line in its
 * Select session dialog (screenshot: test-results/e2e/x2goclient-select-session.png), and its
 * Resume, clicked through XTEST, brings back the same x2goagent with the line's cookie. Root
 * only; needs `npm run test:e2e:setup`.
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
import { type Proc, spawnLogged } from "./procs.ts";
import { e2eSuite, RESULTS_DIR } from "./suite.ts";

const execFileAsync = promisify(execFile);
const suite = e2eSuite("e2e-x2goclient-session-info");
/**
 * x2goclient 4.1.2 resumes by connecting to SESSION_INFO's host with SERVER:'s port. The helper
 * rewrites SERVER: to its local port but leaves SESSION_INFO as the broker wrote it, so the node
 * is named after the helper's listening host: the resume then reaches the helper's tunnel.
 */
const NODE = "localhost";
/** x2golistsessions fields x2goclient reads from the line, and that stay put while a session is suspended. */
const COMPARED = { pid: 0, name: 1, display: 2, status: 4, cookie: 6, clientIp: 7, graphicsPort: 8, soundPort: 9, user: 11, sshfsPort: 13, tekictrl: 14, tekidata: 15 };

let cluster: NativeCluster;
let helper: RunningHelper;
let home: string;
let agentSocket: string;
let clientRuns = 0;

/** x2goclient through the helper's plain endpoint, logging in with the user's key from the suite's ssh-agent. */
function startX2goclient(): Proc {
  const brokerUrl = `http://${cluster.login}@127.0.0.1:${helper.port}/plain/`;
  const args = [`--broker-url=${brokerUrl}`, "--broker-noauth", `--sessionid=${PROFILE}`, "--add-to-known-hosts", "--no-menu", "--bypass-cleanup-helper", "--debug"];
  const client = spawnLogged(`x2goclient-${++clientRuns}`, "timeout", ["150", "x2goclient", ...args], {
    logFile: join(suite.dir, `x2goclient-${clientRuns}.log`),
    env: { ...process.env, HOME: home, DISPLAY: cluster.display, LANG: "C.UTF-8", XDG_RUNTIME_DIR: home, SSH_AUTH_SOCK: agentSocket },
  });
  suite.defer(() => client.stop());
  return client;
}

/** The session's line as `x2golistsessions_root` prints it on the node. */
async function nodeLine(name: string): Promise<string[]> {
  const { stdout } = await execFileAsync("/usr/sbin/x2golistsessions_root", [], { timeout: 10_000 });
  return stdout.split("\n").map((line) => line.split("|")).find((fields) => fields[1] === name) ?? [];
}

/** x2goagent's own view of the session (`~/.x2go/C-<name>/state`): RUNNING once a proxy is connected. */
async function agentState(name: string): Promise<string> {
  const { stdout } = await execFileAsync("runuser", ["-u", cluster.login, "--", "sh", "-c", `cat "$HOME/.x2go/C-${name}/state"`]).catch(() => ({ stdout: "" }));
  return stdout.trim();
}

/** Where x2goclient 4.1.2.2 draws the Select session dialog's Resume button on a 1024x768 Xvfb (no window manager). */
const RESUME_BUTTON = { x: 304, y: 404 };

/** A left click at `point` through XTEST (python3-xlib comes with python3-x2go). */
function clickScript(display: string, point: { x: number; y: number }): string {
  return [
    "import time",
    "from Xlib import X, display",
    "from Xlib.ext import xtest",
    `d = display.Display(${JSON.stringify(display)})`,
    `xtest.fake_input(d, X.MotionNotify, x=${point.x}, y=${point.y})`,
    "xtest.fake_input(d, X.ButtonPress, 1); d.sync(); time.sleep(0.1)",
    "xtest.fake_input(d, X.ButtonRelease, 1); d.sync()",
  ].join("\n");
}

beforeAll(() =>
  suite.guard("setup", async () => {
    cluster = await startNativeCluster(suite, { login: "natdora", hostnames: [NODE], x2goOptions: { autologin: true } });
    helper = await startHelper(["x2go", "--listen", "127.0.0.1:0"], cluster.configDir, join(suite.dir, "helper.log"));
    suite.defer(() => helper.stop());
    home = join(suite.dir, "x2goclient-home");
    mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
    await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(home, ".ssh", "id_ed25519")]);
    writeFileSync(join(cluster.sshd.authorizedKeysDir, cluster.login), readFileSync(join(home, ".ssh", "id_ed25519.pub")), { mode: 0o644 });
    // libssh reads default keys from the passwd entry's home (root's), not $HOME: the key goes through an agent of the suite's own.
    agentSocket = join(suite.dir, "ssh-agent.sock");
    const agent = spawnLogged("ssh-agent", "ssh-agent", ["-D", "-a", agentSocket], { logFile: join(suite.dir, "ssh-agent.log") });
    suite.defer(() => agent.stop());
    await waitFor(() => existsSync(agentSocket), 10_000, "ssh-agent's socket");
    await execFileAsync("ssh-add", [join(home, ".ssh", "id_ed25519")], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
  }),
);

describe("x2goclient and the broker's SESSION_INFO", () => {
  it("gets the node's real session fields in SESSION_INFO, lists that session in its Select session dialog and resumes it", async () => {
    // A session x2goclient started, then suspended on the node.
    const first = startX2goclient();
    const running = async () => (await x2goSessionsOf(cluster.login)).find((session) => session.status === "R" && session.pid > 0);
    await waitFor(async () => (await running()) !== undefined, 90_000, "x2goclient's X2Go session running");
    const { name, pid } = (await running()) ?? { name: "", pid: 0 };
    // Stopped before its proxy is in, x2goclient would leave a session that ends instead of suspending.
    await waitFor(async () => (await agentState(name)) === "RUNNING", 60_000, "x2goclient's proxy connected to the session");
    await first.stop();
    // x2goagent may be suspending itself already, now that the client's proxy went away: ask until it is.
    const suspended = async () => {
      if ((await nodeLine(name))[COMPARED.status] === "S") return true;
      await execFileAsync("runuser", ["-u", cluster.login, "--", "x2gosuspend-session", name], { timeout: 30_000 }).catch(() => undefined);
      return false;
    };
    await waitFor(suspended, 90_000, "the session suspended", 1000);
    await waitFor(async () => (await cluster.brokerSessions()).some((session) => session.id === name && session.state === "suspended"), 30_000, "the agent reporting it suspended");

    // The broker's line carries what x2golistsessions prints on the node.
    const form = new URLSearchParams({ user: cluster.login, password: cluster.password, authid: "", task: "selectsession", sid: PROFILE });
    const answer = await fetch(`${cluster.broker.url}/plain/`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: form.toString() });
    const info = /\nSESSION_INFO:([^\n]*)\n/.exec(await answer.text())?.[1]?.split("|") ?? [];
    const node = await nodeLine(name);
    for (const [label, index] of Object.entries(COMPARED)) expect([label, info[index]]).toEqual([label, node[index]]);
    expect(info[COMPARED.pid]).toBe(String(pid));
    expect(info[COMPARED.display]).toMatch(/^\d+$/);
    expect(info[COMPARED.cookie]).toMatch(/^[0-9a-f]{32}$/);
    expect(info[3]).toBe(NODE);

    // x2goclient takes the line as x2golistsessions' output: its "Select session" dialog lists the real session.
    startX2goclient();
    const clientLog = () => readFileSync(join(suite.dir, `x2goclient-${clientRuns}.log`), "utf8");
    const decoded = () => new RegExp(`Decoding session string:(${pid}\\|${name}\\|[^"\\n]*)`).exec(clientLog())?.[1]?.split("|");
    await waitFor(() => decoded() !== undefined, 90_000, "x2goclient decoding the broker's SESSION_INFO in its Select session list");
    // Everything but the age (counted at each answer) is the line the broker answered before.
    expect(decoded()?.filter((_, index) => index !== 12)).toEqual(info.filter((_, index) => index !== 12));
    await execFileAsync("import", ["-display", cluster.display, "-window", "root", join(RESULTS_DIR, "x2goclient-select-session.png")]);

    // Resume, as a user clicks it: the same x2goagent runs again once nxproxy got in with the line's cookie.
    await execFileAsync("/usr/bin/python3", ["-c", clickScript(cluster.display, RESUME_BUTTON)]);
    await waitFor(async () => (await nodeLine(name))[COMPARED.status] === "R" && (await agentState(name)) === "RUNNING", 60_000, "the session resumed, its proxy connected");
    expect((await running())?.pid).toBe(pid);
    expect(clientLog()).toContain("New gr_port:");
  }, 300_000);
});
