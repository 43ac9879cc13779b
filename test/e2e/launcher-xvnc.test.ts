/**
 * The shipped `xvnc` launcher on this machine, for real (root only; `npm run test:e2e:setup`
 * installs TigerVNC, xauth, xterm and sudo): the agent's launchers run as the unprivileged
 * `edge-agent`, whose one sudoers rule (agent/launchers/sudoers.edge-agent) lets it run the
 * `as-user` helper and nothing else. alice and bob each get their own desktop: an Xvnc with an X
 * cookie, RFB on a unix socket only its user and the agent's group can open, no TCP port. The
 * gateway bridges an asserted WebSocket to it (RFB 003.008), refuses another user's assertion,
 * and stop ends the Xvnc and closes the connection with the reason. Desktops run in the user's home.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { closeOf, connect, mintAssertion, nextMessage } from "../node/agent/gateway/helpers.ts";
import { waitFor } from "../harness/wait.ts";
import { type LaunchNode, startLaunchNode } from "./launch-node.ts";
import { AGENT_USER, ensureAgentUser, ensureUser, HELPER, installSudoersRule, readSocketAs, requireRoot, runAs, spawnAs } from "./node-accounts.ts";
import { e2eSuite } from "./suite.ts";

const execFileAsync = promisify(execFile);
const suite = e2eSuite("e2e-launch-xvnc");
const XVNC_PARAMS = { session: ["/usr/bin/xterm"], geometry: "800x600", depth: 24 };

let node: LaunchNode;
let agentGid: number;

const request = (sessionId: string, login: string) => ({
  sessionId,
  user: { login, groups: [], isAdmin: false },
  profile: { id: "xvnc-desktop", launcher: "xvnc", params: XVNC_PARAMS },
  data: {},
});

/** The first binary message of an RFB connection through the gateway with `login`'s assertion for `sessionId`. */
async function rfbThroughGateway(login: string, sessionId: string) {
  const upgrade = await connect(node.url, await mintAssertion({ login, sessionId }), ["binary"]);
  if (!upgrade.ok) return { status: upgrade.status, greeting: "" };
  const first = upgrade.received[0] ?? (await nextMessage(upgrade.ws)).data;
  return { status: 101, greeting: first.toString("latin1"), ws: upgrade.ws };
}

function isLive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  await suite.guard("launcher set-up", async () => {
    requireRoot();
    await ensureUser("alice");
    await ensureUser("bob");
    const agent = await ensureAgentUser();
    agentGid = agent.gid;
    suite.defer(await installSudoersRule());
    const stateDir = join(suite.dir, "state");
    mkdirSync(stateDir, { recursive: true });
    node = await startLaunchNode({ stateDir, logFile: join(suite.dir, "agent.log"), spawn: spawnAs(agent) });
    suite.defer(() => node.stop());
  });
});

describe("xvnc launcher: the agent stays unprivileged", () => {
  it("lets edge-agent run the helper through sudo -n, and nothing else", async () => {
    expect((await runAs(AGENT_USER, "sudo", ["-n", "/bin/id"])).ok).toBe(false);
    const asRoot = await runAs(AGENT_USER, "sudo", ["-n", HELPER, "xvnc-start", "root", "ses_x", "800x600", "24", "--", "/usr/bin/xterm"]);
    expect(asRoot).toMatchObject({ ok: false, stderr: "root is root or a system account; no desktop is started for it\n" });
    const traversal = await runAs(AGENT_USER, "sudo", ["-n", HELPER, "xvnc-start", "alice", "../../etc", "800x600", "24", "--", "/usr/bin/xterm"]);
    expect(traversal).toMatchObject({ ok: false, stderr: "invalid session id\n" });
    const relative = await runAs(AGENT_USER, "sudo", ["-n", HELPER, "xvnc-start", "alice", "ses_x", "800x600", "24", "--", "xterm"]);
    expect(relative.stderr).toContain("the session command must be an absolute path");
  });
});

describe("xvnc launcher: per-user desktops", () => {
  it("starts alice's and bob's desktops, each RFB socket open to its user and the agent's group only", async () => {
    const started = Date.now();
    const alice = await node.manager.start(request("ses_xvnc_alice", "alice"));
    const aliceMs = Date.now() - started;
    const bob = await node.manager.start(request("ses_xvnc_bob", "bob"));
    expect(alice).toMatchObject({ ok: true, value: { state: "running", sessionId: "ses_xvnc_alice", display: expect.stringMatching(/^:\d+$/) } });
    expect(bob).toMatchObject({ ok: true, value: { state: "running", sessionId: "ses_xvnc_bob" } });
    console.log(`xvnc launcher: alice's desktop running ${aliceMs} ms after start (sudo, Xvnc, cookie, session)`);

    for (const [login, sessionId, other] of [["alice", "ses_xvnc_alice", "bob"], ["bob", "ses_xvnc_bob", "alice"]] as const) {
      const record = await node.record(sessionId);
      expect(record.endpoint).toBe(`unix:/run/edge-desktops/${login}/${sessionId}.sock`);
      const socketPath = (record.endpoint ?? "").slice("unix:".length);
      const socket = statSync(socketPath);
      expect(socket.isSocket()).toBe(true);
      expect(socket.mode & 0o777).toBe(0o660);
      expect(socket.gid).toBe(agentGid);
      const dir = statSync(join(socketPath, ".."));
      expect(dir.mode & 0o7777).toBe(0o2750);
      expect(dir.gid).toBe(agentGid);
      expect(await readSocketAs(login, socketPath)).toBe("RFB 003.008\n");
      expect(await readSocketAs(AGENT_USER, socketPath)).toBe("RFB 003.008\n");
      expect(await readSocketAs(other, socketPath)).toBe("EACCES");
      // The X display wants the cookie: another user's X client is refused.
      const display = (await node.manager.sessions()).find((session) => session.id === sessionId)?.display ?? "";
      const xclient = await runAs(other, "env", [`DISPLAY=${display}`, "xdpyinfo"]);
      expect(xclient.ok).toBe(false);
      // No TCP port: Xvnc listens on its unix sockets only.
      const xvncPid = record.pid?.pid ?? 0;
      const { stdout } = await execFileAsync("ss", ["-ltnpH"]);
      expect(stdout).not.toContain(`pid=${xvncPid},`);
      expect((await execFileAsync("ps", ["-o", "user=,comm=", "-p", String(xvncPid)])).stdout.trim().split(/\s+/)).toEqual([login, "Xvnc"]);
      // The desktop and its session (xterm) run in the user's home, not where the agent runs.
      const home = (await execFileAsync("getent", ["passwd", login])).stdout.split(":")[5];
      expect(readlinkSync(`/proc/${xvncPid}/cwd`)).toBe(home);
      let xterm = "";
      await waitFor(async () => {
        xterm = (await execFileAsync("pgrep", ["-u", login, "-x", "xterm"]).catch(() => ({ stdout: "" }))).stdout.trim().split("\n")[0] ?? "";
        return xterm !== "";
      }, 5_000, `${login}'s xterm`);
      expect(readlinkSync(`/proc/${xterm}/cwd`)).toBe(home);
    }
  });

  it("bridges an asserted WebSocket to the user's desktop, and refuses another user's assertion", async () => {
    const alice = await rfbThroughGateway("alice", "ses_xvnc_alice");
    expect(alice).toMatchObject({ status: 101, greeting: "RFB 003.008\n" });
    expect(alice.ws?.protocol).toBe("binary");
    expect(node.manager.sessions().find((session) => session.id === "ses_xvnc_alice")?.state).toBe("running");
    expect(node.manager.sessions().find((session) => session.id === "ses_xvnc_bob")?.state).toBe("suspended");
    expect((await rfbThroughGateway("bob", "ses_xvnc_alice")).status).toBe(403);
    alice.ws?.close();
  });

  it("stop ends the Xvnc, closes the live connection with the reason and removes the socket", async () => {
    const record = await node.record("ses_xvnc_alice");
    const xvncPid = record.pid?.pid ?? 0;
    expect(isLive(xvncPid)).toBe(true);
    const live = await rfbThroughGateway("alice", "ses_xvnc_alice");
    const closed = closeOf(live.ws as NonNullable<typeof live.ws>);
    expect(await node.manager.stop("ses_xvnc_alice", "terminated by alice")).toEqual({ ok: true, value: undefined });
    expect(await closed).toEqual({ code: 4000, reason: "terminated by alice" });
    await waitFor(() => !isLive(xvncPid), 5_000, "alice's Xvnc to exit");
    expect(() => statSync((record.endpoint ?? "").slice("unix:".length))).toThrow();
    expect((await rfbThroughGateway("alice", "ses_xvnc_alice")).status).toBe(404);
    expect(node.manager.sessions().map((session) => session.id)).toEqual(["ses_xvnc_bob"]);
  });
});
