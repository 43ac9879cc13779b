import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EnrollError, enrollNode } from "../../../agent/enroll.ts";
import { KEY_FILE, NODE_FILE } from "../../../agent/state.ts";
import { enrolRequestSchema } from "../../../src/protocol.ts";
import { fakeDeps, json, POOL, recordingSend, SERVER_ID, tempDir, testConfig } from "./helpers.ts";

const TOKEN = "enrol-token-0123456789abcdef";
const created = () => json(201, { serverId: SERVER_ID, pool: POOL, intervalMs: 10_000 });

async function setup(answer: Parameters<typeof recordingSend>[0] = created, overrides: Record<string, unknown> = {}) {
  const dir = await tempDir();
  const stateDir = join(dir, "state");
  const config = testConfig(stateDir, overrides);
  const recorder = recordingSend(answer);
  const deps = fakeDeps({ send: recorder.send, now: () => 1_800_000_000_000 });
  return { dir, stateDir, config, deps, requests: recorder.requests };
}

describe("enroll: happy path", () => {
  it("posts an EnrolRequest and stores the key (0600, in a 0700 dir) and the enrolment", async () => {
    const { dir, stateDir, config, deps, requests } = await setup();
    await writeFile(join(dir, "static.json"), '{"gpu": true}');
    const state = await enrollNode({ ...config, staticDataFile: join(dir, "static.json"), clientAddress: "desk01.lan:3389" }, TOKEN, deps);

    expect(state).toEqual({ serverId: SERVER_ID, pool: POOL, intervalMs: 10_000, brokerUrl: "http://broker.test", enrolledAt: 1_800_000_000_000, approved: true });
    expect(requests[0]?.url).toBe("http://broker.test/v1/agent/enrol");
    const request = enrolRequestSchema.parse(JSON.parse(requests[0]?.body ?? ""));
    expect(request).toMatchObject({ token: TOKEN, hostname: "desk01", originUrl: "http://127.0.0.1:6080", clientAddress: "desk01.lan:3389", staticData: { gpu: true } });

    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(stateDir, KEY_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, NODE_FILE))).mode & 0o777).toBe(0o600);
    const jwk = JSON.parse(await readFile(join(stateDir, KEY_FILE), "utf8"));
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", x: request.publicKey.x, d: expect.any(String) });
    expect(JSON.parse(await readFile(join(stateDir, NODE_FILE), "utf8"))).toEqual(state);
    expect(await readdir(stateDir)).toEqual([KEY_FILE, NODE_FILE].sort());
  });

  it("replaces the key when enrolling again", async () => {
    const { stateDir, config, deps } = await setup();
    await enrollNode(config, TOKEN, deps);
    const first = await readFile(join(stateDir, KEY_FILE), "utf8");
    await enrollNode(config, TOKEN, deps);
    expect(await readFile(join(stateDir, KEY_FILE), "utf8")).not.toBe(first);
  });
});

describe("enroll: failures change nothing", () => {
  it("reports the broker's error code and message, and keeps the previous enrolment", async () => {
    let refuse = false;
    const { stateDir, config, deps } = await setup(() =>
      refuse ? json(401, { error: { code: "UNAUTHORIZED", message: "enrolment token is invalid or used" } }) : created(),
    );
    await enrollNode(config, TOKEN, deps);
    const before = await readFile(join(stateDir, KEY_FILE), "utf8");
    refuse = true;
    await expect(enrollNode(config, TOKEN, deps)).rejects.toThrow(new EnrollError("UNAUTHORIZED: enrolment token is invalid or used"));
    expect(await readFile(join(stateDir, KEY_FILE), "utf8")).toBe(before);
    expect(await readdir(stateDir)).toEqual([KEY_FILE, NODE_FILE].sort());
  });

  it("says which broker it could not reach", async () => {
    const { stateDir, config, deps } = await setup(() => Promise.reject(new TypeError("fetch failed", { cause: new Error("getaddrinfo ENOTFOUND broker.test") })));
    await expect(enrollNode(config, TOKEN, deps)).rejects.toThrow("cannot reach http://broker.test/v1/agent/enrol: fetch failed (getaddrinfo ENOTFOUND broker.test)");
    expect(await readdir(stateDir)).toEqual([]);
  });

  it("says when the state directory cannot be written, before contacting the broker", async () => {
    const { config, deps, requests } = await setup();
    const readOnly = { ...deps, fs: { ...deps.fs, writePrivateTemp: () => Promise.reject(new Error("EACCES: permission denied")) } };
    await expect(enrollNode(config, TOKEN, readOnly)).rejects.toThrow(`cannot write to ${config.stateDir}: EACCES: permission denied`);
    expect(requests).toHaveLength(0);
  });

  it("checks the token locally before sending it", async () => {
    const { config, deps, requests } = await setup();
    await expect(enrollNode(config, "short", deps)).rejects.toThrow(/^token: /);
    expect(requests).toHaveLength(0);
  });

  it("refuses a broken static data file", async () => {
    const { dir, config, deps } = await setup();
    await writeFile(join(dir, "static.json"), "[1, 2]");
    await expect(enrollNode({ ...config, staticDataFile: join(dir, "static.json") }, TOKEN, deps)).rejects.toThrow(/static data file .*static\.json: /);
  });
});
