/**
 * The launcher contract end to end on real processes: resolve, run with JSON on stdin, bounded
 * time and output, and the answer read as untrusted (createLauncherClient).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLauncherClient } from "../../../../agent/launch/launcher-client.ts";
import type { LaunchersConfig } from "../../../../agent/launch/config.ts";
import type { LauncherInput } from "../../../../agent/launch/request.ts";
import { ALICE, eventually, isAlive, launchConfig, launcherDir, NODE, realLaunchDeps, writeLauncher } from "./helpers.ts";

const START: LauncherInput = { action: "start", sessionId: "ses_1", user: ALICE, profile: { id: "desktop", launcher: "test", params: { geometry: "800x600" } }, data: { client: "test" }, node: NODE };

async function callWith(body: string, overrides: Partial<LaunchersConfig> = {}, input: LauncherInput = START) {
  const dir = await launcherDir();
  await writeLauncher(dir, "test", body);
  const deps = realLaunchDeps();
  const call = createLauncherClient(launchConfig(dir, overrides), deps);
  return { dir, result: await call(input), deps };
}

async function messageOf(body: string, overrides: Partial<LaunchersConfig> = {}): Promise<string> {
  const { result } = await callWith(body, overrides);
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error.message;
}

describe("launcher runs: the request on stdin, a clean environment", () => {
  it("gets the request as one JSON line on stdin, the agent's Node in $EDGE_AGENT_NODE, and no other agent variable", async () => {
    process.env.AGENT_SECRET_FOR_TEST = "must-not-leak";
    const { dir, result } = await callWith(`cat > "$(dirname "$0")/stdin.json"; env > "$(dirname "$0")/env.txt"; echo '{"state":"running","endpoint":"unix:/run/x.sock"}'`);
    delete process.env.AGENT_SECRET_FOR_TEST;
    expect(result.ok).toBe(true);
    const stdin = await readFile(join(dir, "stdin.json"), "utf8");
    expect(stdin.endsWith("\n")).toBe(true);
    expect(JSON.parse(stdin)).toEqual(START);
    const env = await readFile(join(dir, "env.txt"), "utf8");
    expect(env).toContain(`EDGE_AGENT_NODE=${process.execPath}`);
    expect(env).toContain("PATH=/usr/local/sbin:");
    expect(env).not.toContain("AGENT_SECRET_FOR_TEST");
  });

  it("answers running with the parsed endpoint, display, pid and handle", async () => {
    const { result } = await callWith(`echo '{"state":"running","endpoint":"tcp://127.0.0.1:5901","display":":3","pid":4242,"handle":{"job":"7"},"extra":"ignored"}'`);
    expect(result).toEqual({ ok: true, value: { state: "running", endpoint: { kind: "tcp", host: "127.0.0.1", port: 5901 }, display: ":3", pid: 4242, handle: { job: "7" } } });
  });

  it("answers queued with the JSON message, and plain text as a queued message", async () => {
    expect((await callWith(`echo '{"state":"queued","message":"job 12 waits"}'`)).result).toEqual({ ok: true, value: { state: "queued", message: "job 12 waits", handle: {} } });
    expect((await callWith(`echo "Your desktop waits for a free GPU"`)).result).toEqual({ ok: true, value: { state: "queued", message: "Your desktop waits for a free GPU", handle: {} } });
  });

  it("fails a non-zero exit with the launcher's stderr (else stdout) for the user", async () => {
    expect(await messageOf(`echo "no licence left for alice" >&2; exit 3`)).toBe("no licence left for alice");
    expect(await messageOf(`echo "out of displays"; exit 1`)).toBe("out of displays");
    expect(await messageOf(`exit 7`)).toBe("the launcher exited with status 7 without a message");
    expect(await messageOf(`kill -KILL $$`)).toBe("the launcher was killed by SIGKILL without a message");
  });

  it("passes a JSON failed answer on with its message (the caller decides: a failed start, or a session that failed)", async () => {
    expect((await callWith(`echo '{"state":"failed","message":"quota exceeded"}'`)).result).toEqual({ ok: true, value: { state: "failed", message: "quota exceeded" } });
  });

  it("clips a long message to about 1 KiB and removes control characters", async () => {
    const message = await messageOf(`printf '\\033[31mred\\033[0m\\r\\n' >&2; head -c 30000 /dev/zero | tr '\\0' 'x' >&2; exit 1`);
    expect(message.slice(0, 15)).toBe("[31mred [0m\nxxx");
    expect(Buffer.byteLength(message)).toBeLessThan(1100);
    expect(message).toMatch(/… \(\d+ more characters\)$/);
  });

  it("refuses a launcher that is not in the directory without running anything", async () => {
    const dir = await launcherDir();
    const call = createLauncherClient(launchConfig(dir), realLaunchDeps());
    expect(await call({ ...START, profile: { ...START.profile, launcher: "absent" } })).toEqual({ ok: false, error: { code: "launcher-unavailable", message: 'no launcher "absent" on this node' } });
  });
});

describe("launcher runs: bounded time and output, the process group killed", () => {
  it("kills the launcher's whole process group on timeout and fails with a clear message", async () => {
    const started = Date.now();
    const { dir, result } = await callWith(`sleep 300 & echo $! > "$(dirname "$0")/child.pid"; sleep 300`, { timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result).toEqual({ ok: false, error: { code: "launcher-failed", message: "the launcher did not finish within 500 ms and was killed" } });
    const child = Number(await readFile(join(dir, "child.pid"), "utf8"));
    await eventually(async () => !(await isAlive(child)), 3_000, "the launcher's background child to die");
  });

  it("kills a launcher that writes more than maxOutputBytes, on stdout or stderr", async () => {
    const stdout = await callWith(`while :; do echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; done`, { maxOutputBytes: 4096 });
    expect(stdout.result).toEqual({ ok: false, error: { code: "launcher-failed", message: "the launcher wrote more than 4096 bytes to stdout and was killed" } });
    const stderr = await callWith(`head -c 1000000 /dev/zero >&2; sleep 300`, { maxOutputBytes: 4096 });
    expect(stderr.result).toEqual({ ok: false, error: { code: "launcher-failed", message: "the launcher wrote more than 4096 bytes to stderr and was killed" } });
  });

  it("finishes when the launcher exits, even if a process it left running holds its stdout", async () => {
    const started = Date.now();
    const { result } = await callWith(`sleep 300 & echo '{"state":"running","endpoint":"unix:/run/x.sock"}'`, { timeoutMs: 5_000 });
    expect(result.ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("launcher runs: hostile output is refused with a clear error", () => {
  it.each([
    ["binary output", `head -c 64 /dev/urandom | tr '\\0-\\177' '\\200-\\377'`, "the launcher's output is not UTF-8 text"],
    ["bad JSON", `echo '{"state":"running",'`, "the launcher printed invalid JSON:"],
    ["an unknown state", `echo '{"state":"exploded"}'`, "the launcher's answer is invalid: state:"],
    ["running without endpoint", `echo '{"state":"running"}'`, "the launcher's answer is invalid: endpoint:"],
    ["no output", `true`, "the launcher printed nothing"],
    ["an endpoint on another host", `echo '{"state":"running","endpoint":"tcp://10.0.0.5:22"}'`, 'the launcher\'s endpoint tcp://10.0.0.5:22 is refused: host "10.0.0.5" is neither loopback nor in launchers.endpointHosts'],
    ["a ws endpoint on another host", `echo '{"state":"running","endpoint":"ws://example.com/"}'`, "is refused: host \"example.com\""],
    ["a ws endpoint with credentials", `echo '{"state":"running","endpoint":"ws://u:p@127.0.0.1:1/"}'`, "must not carry credentials"],
    ["a unix path with ..", `echo '{"state":"running","endpoint":"unix:/run/../etc/x.sock"}'`, "is not normalised"],
    ["a unix path too long for a socket", `echo '{"state":"running","endpoint":"unix:/${"a".repeat(120)}"}'`, "longer than 107 bytes"],
    ["a file endpoint", `echo '{"state":"running","endpoint":"file:///etc/passwd"}'`, "is not tcp://host:port, unix:/path"],
    ["pid 1", `echo '{"state":"running","endpoint":"unix:/run/x.sock","pgid":1}'`, "the launcher's answer is invalid: pgid:"],
    ["a huge handle", `printf '{"state":"queued","handle":{"x":"%s"}}' "$(head -c 9000 /dev/zero | tr '\\0' x)"`, "handle: must be at most 8192 bytes of JSON"],
  ])("refuses %s", async (_what, body, expected) => {
    expect(await messageOf(body)).toContain(expected);
  });

  it("refuses a launcher naming the agent's own pid as the session's", async () => {
    expect(await messageOf(`echo '{"state":"running","endpoint":"unix:/run/x.sock","pgid":${process.pid}}'`)).toBe(`the launcher's pgid ${process.pid} is the agent's own`);
  });

  it("accepts an endpoint host the admin listed, exactly or by *.domain", async () => {
    const hosts = { endpointHosts: ["gpu01", "*.compute.example.org"] };
    expect((await callWith(`echo '{"state":"running","endpoint":"tcp://gpu01:5901"}'`, hosts)).result.ok).toBe(true);
    expect((await callWith(`echo '{"state":"running","endpoint":"tcp://n7.compute.example.org:5901"}'`, hosts)).result.ok).toBe(true);
    expect(await messageOf(`echo '{"state":"running","endpoint":"tcp://compute.example.org.evil.com:5901"}'`, hosts)).toContain("is refused");
  });
});
