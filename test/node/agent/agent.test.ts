import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { importJWK, jwtVerify } from "jose";
import { describe, expect, it, vi } from "vitest";
import { startAgent } from "../../../agent/agent.ts";
import { enrollNode } from "../../../agent/enroll.ts";
import { stopWithin } from "../../../agent/shutdown.ts";
import { KEY_FILE, StateError } from "../../../agent/state.ts";
import { bodyHash } from "../../../agent/token.ts";
import { HEARTBEAT_AUDIENCE, heartbeatBodySchema } from "../../../src/protocol.ts";
import { FIXTURES, fakeDeps, json, okReply, POOL, recordingSend, SERVER_ID, tempDir, testConfig } from "./helpers.ts";
import { FakeBroker } from "./channel-fakes.ts";

async function enrolledConfig(overrides: Record<string, unknown> = {}, intervalMs = 10_000) {
  const stateDir = join(await tempDir(), "state");
  const config = testConfig(stateDir, overrides);
  const enrol = fakeDeps({ send: async () => json(201, { serverId: SERVER_ID, pool: POOL, intervalMs }) });
  await enrollNode(config, "enrol-token-0123456789abcdef", enrol);
  return config;
}

describe("startAgent", () => {
  it("refuses to run before enrolment with a one-line hint", async () => {
    const config = testConfig(join(await tempDir(), "state"));
    await expect(startAgent(config, fakeDeps())).rejects.toThrow(
      new StateError(`not enrolled: run \`agent enroll --config ${config.configPath} --token TOKEN\` first`),
    );
  });

  it("sends a signed heartbeat with /proc metrics and x2go sessions", async () => {
    const config = await enrolledConfig({ sessionSource: { type: "x2go" } });
    const x2go = await readFile(join(FIXTURES, "x2golistsessions.txt"), "utf8");
    const { send, requests } = recordingSend();
    const deps = fakeDeps({ send, exec: async () => x2go });
    const agent = await startAgent(config, deps);
    await vi.waitFor(() => expect(requests.length).toBeGreaterThan(0));
    await agent.stop();

    const request = requests[0]!;
    const jwk = JSON.parse(await readFile(join(config.stateDir, KEY_FILE), "utf8"));
    const publicKey = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, "EdDSA");
    const token = request.headers["Authorization"]!.replace("Bearer ", "");
    const { payload } = await jwtVerify(token, publicKey, { audience: HEARTBEAT_AUDIENCE, issuer: SERVER_ID });
    expect(payload).toMatchObject({ pool: POOL, bh: bodyHash(request.body) });

    const body = heartbeatBodySchema.parse(JSON.parse(request.body));
    expect(body).toMatchObject({ loadAvg: [0.52, 0.58, 0.61], cpuCount: 4, memAvailableBytes: 9_876_544 * 1024, users: ["alice", "bob"] });
    expect(body.sessions).toHaveLength(3);
    expect(body.metrics).toMatchObject({ sessionParseErrors: 1, collectMs: expect.any(Number) });
  });

  it("reports the last good sessions, marked stale, when the session source fails", async () => {
    const config = await enrolledConfig({ sessionSource: { type: "command", command: "list-sessions" } });
    const { send, requests } = recordingSend(() => json(200, { status: "up", draining: false, intervalMs: 100 }));
    let calls = 0;
    const session = { id: "s1", user: "alice", state: "running", startedAt: 1 };
    const exec = async () => {
      calls += 1;
      if (calls > 1) throw new Error("list-sessions failed: timed out");
      return JSON.stringify([session]);
    };
    const deps = fakeDeps({ send, exec });
    const agent = await startAgent(config, deps);
    await vi.waitFor(() => expect(requests.length).toBeGreaterThan(1));
    await agent.stop();
    const second = JSON.parse(requests[1]!.body);
    expect(second.sessions).toEqual([session]);
    expect(second.metrics).toMatchObject({ sessionsStale: true, sessionSourceError: "list-sessions failed: timed out" });
    expect(deps.lines).toContain("session source failed: list-sessions failed: timed out; reporting the last good sessions");
  });
});

describe("the control channel", () => {
  it("opens the channel, sends heartbeats on it while it is open, and answers the broker's commands with the injected handlers", async () => {
    const config = await enrolledConfig({}, 100);
    const broker = new FakeBroker();
    const { send, requests } = recordingSend(() => okReply(100));
    const deps = fakeDeps({ send, openSocket: broker.openSocket });
    const closed: unknown[] = [];
    const agent = await startAgent(config, deps, { handlers: { disconnect: async (target, reason) => (closed.push({ target, reason }), { closed: 1 }) } });
    await vi.waitFor(() => expect(agent.channel.connected).toBe(true));
    // The first beat may go over HTTP before the channel is open; the next ones go on the channel.
    await vi.waitFor(() => expect(broker.last.messages.some((message) => (message as { method?: string }).method === "heartbeat")).toBe(true));
    const beat = broker.last.messages.find((message) => (message as { method?: string }).method === "heartbeat") as { id: number; params: unknown };
    expect(heartbeatBodySchema.safeParse(beat.params).success).toBe(true);
    const httpBefore = requests.length;
    broker.last.deliver({ id: beat.id, ok: true, result: { status: "up", draining: false, intervalMs: 10_000 } });
    broker.last.deliver({ id: 1, method: "disconnect", params: { target: { sessionId: "s-1" }, reason: "by admin" } });
    await vi.waitFor(() => expect(broker.last.messages).toContainEqual({ id: 1, ok: true, result: { closed: 1 } }));
    expect(closed).toEqual([{ target: { sessionId: "s-1" }, reason: "by admin" }]);
    expect(requests.length).toBe(httpBefore);
    await agent.stop();
    expect(broker.last.closedWith).toEqual({ code: 1001, reason: "agent stopping" });
  });
});

describe("shutdown", () => {
  it("aborts a hanging send and stops well within the deadline", async () => {
    const config = await enrolledConfig();
    const { send, requests } = recordingSend(
      (request) => new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason))),
    );
    const deps = fakeDeps({ send });
    const agent = await startAgent(config, deps);
    await vi.waitFor(() => expect(requests.length).toBe(1));
    const started = Date.now();
    expect(await stopWithin(agent.stop, 2_000, deps)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(requests[0]!.signal.aborted).toBe(true);
  });

  it("gives up at the deadline when a send ignores the abort", async () => {
    const config = await enrolledConfig();
    const { send, requests } = recordingSend(() => new Promise<Response>(() => {}));
    const deps = fakeDeps({ send });
    const agent = await startAgent(config, deps);
    await vi.waitFor(() => expect(requests.length).toBe(1));
    const started = Date.now();
    expect(await stopWithin(agent.stop, 200, deps)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
