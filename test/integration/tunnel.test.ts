/**
 * Tunnels to a node's TCP service end to end (issue 17), with the local broker (test/harness), a
 * real agent whose node gateway maps `ssh` to a TCP echo standing in for sshd, and the real
 * `edge-desktop` helper as a process: sign-in with a password, `connect` (stdin/stdout),
 * `forward` (a local port), the X2Go endpoint's rewrite of `SERVER:` to a port it opens, and the
 * refusals a user meets (not signed in, a profile they may not use, an expired sign-in, another
 * OS user's process on the helper's port). The real sshd, x2goserver and X2Go clients:
 * test/e2e/native-*.test.ts.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentHandle, enrolAgent } from "../harness/agents.ts";
import { type LocalBroker, scratchBrokerOptions, startBroker } from "../harness/broker.ts";
import { adminCall, listServers } from "../harness/client.ts";
import { EDGE_DESKTOP, helperLogin, runHelper, type RunningHelper, startHelper } from "../harness/edge-desktop.ts";
import { freePort } from "../harness/ports.ts";
import { waitFor } from "../harness/wait.ts";

const USER = { login: "tunnel-user", password: "tunnel-password-123" };
const NODE = "tunnel-node";
let workDir: string;
let broker: LocalBroker;
let agent: AgentHandle;
let echo: Server;
let configDir: string;
const helpers: RunningHelper[] = [];

/** Sends `payload` over a TCP connection to `port` and resolves with what comes back once it is as long. */
function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write(payload));
    const chunks: Buffer[] = [];
    let size = 0;
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= payload.length) {
        socket.destroy();
        resolve(Buffer.concat(chunks));
      }
    });
    socket.once("error", reject);
    socket.once("close", () => reject(new Error(`closed after ${size} of ${payload.length} bytes`)));
  });
}

function x2goPost(port: number, path: string, fields: Record<string, string>): Promise<{ status: number; text: string }> {
  return fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() }).then(
    async (response) => ({ status: response.status, text: await response.text() }),
  );
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "broker-tunnel-"));
  configDir = join(workDir, "edge-desktop");
  broker = await startBroker(await scratchBrokerOptions(workDir));
  echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  const echoPort = (echo.address() as { port: number }).port;
  const gatewayPort = await freePort();
  agent = await enrolAgent(broker, {
    hostname: NODE,
    dir: join(workDir, NODE),
    staticData: {},
    originUrl: `http://127.0.0.1:${gatewayPort}/`,
    logFile: join(workDir, "agent.log"),
    gateway: { listen: `127.0.0.1:${gatewayPort}`, services: { ssh: `tcp://127.0.0.1:${echoPort}` } },
  });
  agent.start();
  await adminCall(broker, "/v1/admin/users", "POST", { ...USER, groups: ["staff"] });
  await adminCall(broker, "/v1/admin/users", "POST", { login: "outsider", password: "outsider-password-1", groups: [] });
  const profile = { pool: "default", mode: "relay", service: "ssh", maxSessionsPerUser: 100 };
  await adminCall(broker, "/v1/admin/profiles", "POST", { ...profile, id: "ssh", name: "SSH", acl: { groups: { allow: ["staff"] } } });
  await adminCall(broker, "/v1/admin/profiles", "POST", { ...profile, id: "x2go", name: "X2Go desktop", command: "XFCE" });
  await waitFor(async () => (await listServers(broker)).some((server) => server.hostname === NODE && server.status === "up"), 20_000, "the node up");
  await helperLogin(broker.url, USER.login, USER.password, configDir);
});

afterAll(async () => {
  for (const helper of helpers) await helper.stop();
  await agent?.stop();
  await broker?.stop();
  await new Promise<void>((resolve) => (echo ? echo.close(() => resolve()) : resolve()));
  rmSync(workDir, { recursive: true, force: true });
});

describe("edge-desktop: sign-in", () => {
  it("keeps the sign-in in the config directory, mode 0600 in a 0700 directory", () => {
    const file = join(configDir, "credentials.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(configDir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ version: 1, brokers: { [broker.url]: { source: "password", login: USER.login } } });
  });

  it("refuses a wrong password with the broker's words, and commands without a sign-in", async () => {
    const elsewhere = join(workDir, "nobody-signed-in");
    const wrong = await runHelper(["login", "--broker", broker.url, "--user", USER.login, "--password-stdin"], { configDir: elsewhere, input: "wrong\n" });
    expect(wrong).toMatchObject({ code: 1 });
    expect(wrong.stderr).toContain("(UNAUTHORIZED)");
    const none = await runHelper(["connect", "--broker", broker.url, "--profile", "ssh", NODE], { configDir: elsewhere });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`not signed in to ${broker.url}: sign in again with  edge-desktop login --broker ${broker.url}`);
  });

  it("says the sign-in expired, and refreshes one past half its life", async () => {
    const dir = join(workDir, "aged");
    await helperLogin(broker.url, USER.login, USER.password, dir);
    const file = join(dir, "credentials.json");
    const stored = JSON.parse(readFileSync(file, "utf8")) as { brokers: Record<string, { token: string; expiresAt: number; obtainedAt: number }> };
    const entry = stored.brokers[broker.url];
    if (!entry) throw new Error("no entry");
    writeFileSync(file, JSON.stringify({ ...stored, brokers: { [broker.url]: { ...entry, obtainedAt: entry.obtainedAt - 13 * 3600_000 } } }), { mode: 0o600 });
    expect((await runHelper(["connect", "--profile", "ssh", NODE], { configDir: dir, input: "x" })).code).toBe(0);
    const after = JSON.parse(readFileSync(file, "utf8")) as typeof stored;
    expect(after.brokers[broker.url]?.token).not.toBe(entry.token);
    writeFileSync(file, JSON.stringify({ ...stored, brokers: { [broker.url]: { ...entry, expiresAt: Date.now() - 1000 } } }), { mode: 0o600 });
    const expired = await runHelper(["connect", "--profile", "ssh", NODE], { configDir: dir });
    expect(expired.code).toBe(1);
    expect(expired.stderr).toMatch(/your sign-in to .* as tunnel-user expired at .*: sign in again with {2}edge-desktop login --broker/);
  });
});

describe("edge-desktop: connect and forward", () => {
  it("connect carries stdin to the node's service and its answer to stdout (an ssh ProxyCommand)", async () => {
    const payload = Buffer.from(Array.from({ length: 200_000 }, (_, index) => index % 251));
    const run = await new Promise<Buffer>((resolve, reject) => {
      const child = spawn(process.execPath, [EDGE_DESKTOP, "connect", "--profile", "ssh", NODE, "--config-dir", configDir], { stdio: ["pipe", "pipe", "inherit"] });
      const chunks: Buffer[] = [];
      child.stdout.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        if (Buffer.concat(chunks).length >= payload.length) child.stdin.end();
      });
      child.once("close", () => resolve(Buffer.concat(chunks)));
      child.once("error", reject);
      child.stdin.write(payload);
    });
    expect(run.equals(payload)).toBe(true);
  });

  it("forward opens a local port whose every connection reaches the service", async () => {
    const helper = await startHelper(["forward", "--profile", "ssh", "--listen", "127.0.0.1:0", NODE], configDir);
    helpers.push(helper);
    for (let round = 0; round < 3; round++) {
      const payload = Buffer.from(`round ${round} `.repeat(1000));
      expect((await roundTrip(helper.port, payload)).equals(payload)).toBe(true);
    }
  });

  it("refuses a profile the user may not use like a missing one, and a server the profile lacks", async () => {
    const dir = join(workDir, "outsider");
    await helperLogin(broker.url, "outsider", "outsider-password-1", dir);
    const hidden = await runHelper(["connect", "--profile", "ssh", NODE], { configDir: dir });
    expect(hidden.stderr).toContain("no profile named ssh (NOT_FOUND)");
    const missing = await runHelper(["connect", "--profile", "ssh", "no-such-node"], { configDir });
    expect(missing.stderr).toContain("profile ssh has no server no-such-node (NOT_FOUND)");
  });

  it("refuses connections to its port from another OS user's process", async () => {
    if (process.getuid?.() !== 0) return;
    const helper = await startHelper(["forward", "--profile", "ssh", "--listen", "127.0.0.1:0", NODE], configDir);
    helpers.push(helper);
    const script = `const s=require("net").connect(${helper.port},"127.0.0.1",()=>s.write("hi"));s.on("data",d=>{process.stdout.write(d);process.exit(0)});s.on("error",()=>{});s.on("close",()=>{process.stdout.write("closed");process.exit(0)})`;
    const output = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ["-e", script], { uid: 65534, gid: 65534, stdio: ["ignore", "pipe", "ignore"] });
      let text = "";
      child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
      child.once("close", () => resolve(text));
    });
    expect(output).toBe("closed");
    expect(helper.log).toContain("from another user's process");
  });
});

describe("edge-desktop: the X2Go endpoint", () => {
  it("lists as the signed-in user and rewrites the selected server to a local port that tunnels to sshd", async () => {
    const helper = await startHelper(["x2go", "--listen", "127.0.0.1:0"], configDir);
    helpers.push(helper);
    const listing = await x2goPost(helper.port, "/plain/", { task: "listsessions", user: "anyone", authid: "" });
    expect(listing.status).toBe(200);
    expect(listing.text).toMatch(/^AUTHID:[0-9a-f-]{36}\nAccess granted\nSTART_USER_SESSIONS\n/);
    expect(listing.text).toContain("[x2go]");
    const selected = await x2goPost(helper.port, "/plain/", { task: "selectsession", sid: "x2go", authid: "whatever" });
    const server = /^SERVER:127\.0\.0\.1:(\d+)$/m.exec(selected.text);
    expect(server, selected.text).not.toBeNull();
    const payload = Buffer.from("SSH-2.0-OpenSSH_9.2\r\n");
    expect((await roundTrip(Number(server?.[1]), payload)).equals(payload)).toBe(true);
    const json = await x2goPost(helper.port, "/json/", { task: "selectsession", "profile-id": "x2go", authid: "" });
    const answer = JSON.parse(json.text) as { selected_session: { server: string; port: string } };
    expect(answer.selected_session).toEqual({ server: "127.0.0.1", port: server?.[1] });
  });
});
