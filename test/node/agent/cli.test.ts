import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseCommandLine, USAGE } from "../../../agent/cli.ts";
import { enrolRequestSchema, heartbeatBodySchema } from "../../../src/protocol.ts";
import { FIXTURES, POOL, SERVER_ID, tempDir } from "./helpers.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const NODE = join(ROOT, "node_modules/.bin/node");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runAgent(args: string[], untilStderr?: RegExp): { done: Promise<Run>; kill: (signal: NodeJS.Signals) => void; ready: Promise<void> } {
  const child = spawn(NODE, ["agent/main.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let markReady = () => {};
  const ready = new Promise<void>((resolveReady) => {
    markReady = resolveReady;
  });
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    if (untilStderr?.test(stderr)) markReady();
  });
  const done = once(child, "close").then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { done, ready, kill: (signal) => child.kill(signal) };
}

/** A stand-in for the broker's agent routes (the real one is tested by the integration suite). */
async function fakeBroker(handle: (path: string, body: string, req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => handle(req.url ?? "", body, req, res));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  servers.push(server);
  return `http://127.0.0.1:${port}`;
}
const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

function reply(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

async function writeConfig(brokerUrl: string, overrides: Record<string, unknown> = {}) {
  const dir = await tempDir();
  const path = join(dir, "agent.json");
  const config = { brokerUrl, stateDir: "state", hostname: "desk01", originUrl: "http://127.0.0.1:6080", sessionSource: { type: "none" }, procRoot: join(FIXTURES, "proc"), ...overrides };
  await writeFile(path, JSON.stringify(config));
  return { dir, path };
}

describe("command line parsing", () => {
  it.each([
    [["--help"], USAGE],
    [[], `no command given; ${USAGE}`],
    [["start", "--config", "a"], `unknown command "start"; ${USAGE}`],
    [["run"], `run needs --config FILE; ${USAGE}`],
    [["enroll", "--config", "a"], `enroll needs --token TOKEN; ${USAGE}`],
    [["rekey", "--config", "a", "--token", "t"], `rekey does not take --token; ${USAGE}`],
    [["run", "--config", "a", "--verbose"], `Unknown option '--verbose'; ${USAGE}`],
  ])("%j → %s", (args, message) => {
    expect(() => parseCommandLine(args)).toThrow(message);
  });

  it("accepts the commands", () => {
    expect(parseCommandLine(["run", "--config", "a.json"])).toEqual({ command: "run", configPath: "a.json" });
    expect(parseCommandLine(["rekey", "--config", "a.json"])).toEqual({ command: "rekey", configPath: "a.json" });
    expect(parseCommandLine(["enroll", "--token", "t", "--config", "a.json"])).toEqual({ command: "enroll", configPath: "a.json", token: "t" });
  });
});

describe("the real CLI", () => {
  it("exits 1 with one readable line for a bad config file", async () => {
    const { path } = await writeConfig("not a url");
    const run = await runAgent(["run", "--config", path]).done;
    expect(run).toEqual({ code: 1, stdout: "", stderr: "config error: brokerUrl: must be an absolute http(s) URL\n" });
  });

  it("exits 2 with the usage line for bad flags", async () => {
    const run = await runAgent(["run", "--confg", "x"]).done;
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain(USAGE);
  });

  it("tells how to enroll when run before enrolment", async () => {
    const { path } = await writeConfig("http://127.0.0.1:9");
    const run = await runAgent(["run", "--config", path]).done;
    expect(run).toEqual({ code: 1, stdout: "", stderr: `not enrolled: run \`agent enroll --config ${path} --token TOKEN\` first\n` });
  });

  it("enrolls against a broker, prints the serverId, then runs and stops cleanly on SIGTERM", async () => {
    const beats: string[] = [];
    const brokerUrl = await fakeBroker((path, body, req, res) => {
      if (path === "/v1/agent/enrol" && enrolRequestSchema.safeParse(JSON.parse(body)).success) {
        return reply(res, 201, { serverId: SERVER_ID, pool: POOL, intervalMs: 100 });
      }
      if (path === "/v1/agent/heartbeat" && req.headers.authorization?.startsWith("Bearer ")) {
        beats.push(body);
        return reply(res, 200, { status: "up", draining: false, intervalMs: 100 });
      }
      reply(res, 400, { error: { code: "BAD_REQUEST", message: "unexpected request" } });
    });
    const { dir, path } = await writeConfig(brokerUrl);

    const enrolled = await runAgent(["enroll", "--config", path, "--token", "enrol-token-0123456789abcdef"]).done;
    expect(enrolled.code).toBe(0);
    expect(enrolled.stdout).toBe(`${SERVER_ID}\n`);
    expect((await stat(join(dir, "state", "node-key.jwk"))).mode & 0o777).toBe(0o600);

    const running = runAgent(["run", "--config", path], /heartbeat accepted/);
    await running.ready;
    running.kill("SIGTERM");
    const run = await running.done;
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/SIGTERM: stopping/);
    expect(beats.length).toBeGreaterThan(0);
    expect(heartbeatBodySchema.safeParse(JSON.parse(beats[0]!)).success).toBe(true);
    // Two agent processes start one after the other (~2 s each on these machines).
  }, 15_000);

  it("prints the broker's error code and message when enrolment is refused", async () => {
    const brokerUrl = await fakeBroker((_path, _body, _req, res) =>
      reply(res, 401, { error: { code: "UNAUTHORIZED", message: "enrolment token is invalid or expired" } }),
    );
    const { path } = await writeConfig(brokerUrl);
    const run = await runAgent(["enroll", "--config", path, "--token", "enrol-token-0123456789abcdef"]).done;
    expect(run).toEqual({ code: 1, stdout: "", stderr: "enroll failed: UNAUTHORIZED: enrolment token is invalid or expired\n" });
  });
});
