/** Fakes and fixtures shared by the agent tests. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type CryptoKey, generateKeyPair } from "jose";
import { afterAll } from "vitest";
import { parseConfig, type AgentConfig } from "../../../agent/config.ts";
import type { AgentDeps, Send } from "../../../agent/deps.ts";
import { nodeFileAccess } from "../../../agent/node-deps.ts";
import type { NodeIdentity } from "../../../agent/token.ts";

export const FIXTURES = resolve(import.meta.dirname, "../../fixtures/agent");
export const SERVER_ID = "srv_abcdefghij0123";
export const POOL = "default";

const createdDirs: string[] = [];

// Registered when a test file imports these helpers: its temp dirs go when the file is done.
afterAll(async () => {
  await Promise.all(createdDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "agent-test-"));
  createdDirs.push(dir);
  return dir;
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

export const okReply = (intervalMs = 10_000, draining = false) => json(200, { status: draining ? "draining" : "up", draining, intervalMs });

export interface RecordedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** A `send` that records every request and answers with `answer` (default: 200 up). */
export function recordingSend(answer: (request: RecordedRequest, index: number) => Promise<Response> | Response = () => okReply()) {
  const requests: RecordedRequest[] = [];
  const send: Send = async (url, init) => {
    const request = { url, headers: init.headers, body: init.body, signal: init.signal };
    requests.push(request);
    return answer(request, requests.length - 1);
  };
  return { send, requests };
}

/** Dependencies with real files, timers from the (possibly faked) globals, and no network. */
export function fakeDeps(overrides: Partial<AgentDeps> = {}): AgentDeps & { lines: string[] } {
  const lines: string[] = [];
  return {
    send: async () => okReply(),
    openSocket: async () => {
      throw new Error("no control channel in this test");
    },
    exec: async () => "",
    fs: nodeFileAccess,
    setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
    clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    now: () => Date.now(),
    random: () => 0.5,
    log: (line) => lines.push(line),
    lines,
    ...overrides,
  };
}

export function testConfig(stateDir: string, overrides: Record<string, unknown> = {}): AgentConfig {
  const file = {
    brokerUrl: "http://broker.test",
    stateDir,
    hostname: "desk01",
    originUrl: "http://127.0.0.1:6080",
    sessionSource: { type: "none" },
    procRoot: join(FIXTURES, "proc"),
    ...overrides,
  };
  return parseConfig(JSON.stringify(file), join(stateDir, "agent.json"), "fallback-host");
}

export async function testIdentity(): Promise<NodeIdentity & { publicKey: CryptoKey }> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return { serverId: SERVER_ID, pool: POOL, privateKey, publicKey };
}
