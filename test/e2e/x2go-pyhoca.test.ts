/**
 * The real Debian pyhoca-cli (python-x2go's JSON broker protocol) against our local broker
 * (test/harness) with a real agent: it lists our profiles, also for a user with a session to
 * resume (x2gobroker's own `status` key makes pyhoca-cli crash there), lists nothing with a
 * wrong password, and with `-P` gets our `host:port` from selectsession and opens its SSH
 * connection there: a local TCP listener standing in for the node's sshd sees it arrive.
 * pyhoca-cli exits 0 even when broker auth fails, so its output is what is judged.
 * Needs `npm run test:e2e:setup` (pyhoca-cli, python3-x2go).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { enrolAgent } from "../harness/agents.ts";
import { type LocalBroker, startBroker } from "../harness/broker.ts";
import { adminCall, listServers } from "../harness/client.ts";
import { freePort } from "../harness/ports.ts";
import { waitFor } from "../harness/wait.ts";
import { e2eSuite } from "./suite.ts";

const execFileAsync = promisify(execFile);
const suite = e2eSuite("e2e-x2go");
const PYHOCA_CLI = "/usr/bin/pyhoca-cli";
const PASSWORD = "sweet-sweet-1";
const NODE = "x2go-node";

let broker: LocalBroker;
/** The stand-in sshd the profile maps the node to. */
let sshPort: number;
let sshConnections = 0;

/** Answers like an SSH server, then hangs up: pyhoca-cli fails right after connecting. */
function startFakeSshd(): Promise<Server> {
  const server = createServer((socket) => {
    sshConnections++;
    socket.on("error", () => undefined);
    socket.write("SSH-2.0-OpenSSH_9.2p1 e2e-stand-in\r\n");
    socket.once("data", () => socket.destroy());
    setTimeout(() => socket.destroy(), 2000).unref();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

interface PyhocaRun {
  output: string;
  exitCode: number;
}

let runs = 0;

/** Runs pyhoca-cli against the broker's JSON frontend as `user`; its output also goes to a log file. */
async function pyhoca(user: string, password: string, args: string[]): Promise<PyhocaRun> {
  const home = join(suite.dir, `home-${user}`);
  mkdirSync(home, { recursive: true });
  const brokerUrl = `${broker.url.replace("://", `://${user}@`)}/json/`;
  // pyhoca-cli insists on a DISPLAY like ":N" even for --list-profiles; it needs no X server for this.
  // Debian's /usr/bin/python3 sees python3-x2go; a python3 earlier on PATH may not.
  const env = { ...process.env, PATH: "/usr/bin:/bin", HOME: home, DISPLAY: ":0", LANG: "C.UTF-8" };
  const result = await execFileAsync(PYHOCA_CLI, ["--broker-url", brokerUrl, "--broker-password", password, ...args], { env, timeout: 90_000 }).then(
    ({ stdout, stderr }) => ({ output: `${stdout}\n${stderr}`, exitCode: 0 }),
    (error: { stdout?: string; stderr?: string; code?: number }) => ({ output: `${error.stdout ?? ""}\n${error.stderr ?? ""}`, exitCode: error.code ?? -1 }),
  );
  writeFileSync(join(suite.dir, `pyhoca-${++runs}-${user}.log`), `$ pyhoca-cli --broker-url ${brokerUrl} ${args.join(" ")}\nexit ${result.exitCode}\n${result.output}`);
  return result;
}

beforeAll(() =>
  suite.guard("setup", async () => {
    if (!existsSync(PYHOCA_CLI)) throw new Error(`${PYHOCA_CLI} is missing: run npm run test:e2e:setup`);
    const sshd = await startFakeSshd();
    suite.defer(() => new Promise<void>((resolve) => sshd.close(() => resolve())));
    sshPort = (sshd.address() as { port: number }).port;
    broker = await startBroker({
      port: await freePort(),
      persistTo: join(suite.dir, "broker-state"),
      adminToken: `e2e-admin-${randomBytes(16).toString("hex")}`,
      signingKey: `e2e-signing-${randomBytes(24).toString("hex")}`,
      logFile: join(suite.dir, "broker.log"),
    });
    suite.defer(() => broker.stop());
    await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs: 1000 });
    const agent = await enrolAgent(broker, {
      hostname: NODE,
      dir: join(suite.dir, "agent"),
      staticData: {},
      sessions: [{ id: "jacques-50-1700000000_stDXFCE_dp24", user: "jacques", state: "suspended", startedAt: 1_700_000_000_000, display: ":50" }],
      logFile: join(suite.dir, `agent-${NODE}.log`),
    });
    agent.start();
    suite.defer(() => agent.stop());
    await waitFor(async () => (await listServers(broker)).some((server) => server.hostname === NODE && server.status === "up"), 60_000, `${NODE} up`);
    for (const login of ["test", "jacques"]) await adminCall(broker, "/v1/admin/users", "POST", { login, password: PASSWORD });
    await adminCall(broker, "/v1/admin/profiles", "POST", {
      id: "pool-lb",
      name: "Pool LB",
      pool: "default",
      mode: "redirect",
      maxSessionsPerUser: 100,
      hosts: [{ name: NODE, address: "127.0.0.1", port: sshPort }],
      command: "XFCE",
      // usebrokerpass is in Debian's example profiles and crashes python-x2go if sent: plain only.
      x2goOptions: { usebrokerpass: true, speed: 3, fullscreen: false },
    });
  }),
);

describe("pyhoca-cli against the JSON frontend", () => {
  it("lists our profile with the keys python-x2go typed", async () => {
    const { output } = await pyhoca("test", PASSWORD, ["--list-profiles"]);
    expect(output).not.toContain("Traceback");
    expect(output).toContain("Profile ID: pool-lb");
    expect(output).toContain("Profile Name: Pool LB");
    expect(output).toContain("'host': ['x2go-node']");
    expect(output).toContain("'speed': 3");
    expect(output).toContain("'command': 'XFCE'");
  });

  it("lists profiles for a user with a suspended session, where x2gobroker's status key would crash it", async () => {
    const { output } = await pyhoca("jacques", PASSWORD, ["--list-profiles"]);
    expect(output).not.toContain("Traceback");
    expect(output).toContain("Profile ID: pool-lb");
  });

  it("lists nothing with a wrong broker password", async () => {
    const { output } = await pyhoca("test", "wrong-password", ["--list-profiles"]);
    expect(output).toContain("Available X2Go session profiles");
    expect(output).not.toContain("Profile ID:");
  });

  it("gets our host:port from selectsession and opens its SSH connection there", async () => {
    const before = sshConnections;
    const { output } = await pyhoca("test", PASSWORD, ["-P", "pool-lb", "-d"]);
    expect(output).toContain(`connecting to [127.0.0.1]:${sshPort}`);
    expect(sshConnections).toBeGreaterThan(before);
  });

  it("finds the profile by its name too, and sends a user with a session to the node holding it", async () => {
    const before = sshConnections;
    const { output } = await pyhoca("jacques", PASSWORD, ["-P", "Pool LB", "-d"]);
    expect(output).toContain(`connecting to [127.0.0.1]:${sshPort}`);
    expect(sshConnections).toBeGreaterThan(before);
  });
});
