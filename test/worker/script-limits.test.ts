/**
 * What an admin's script can cost others (issue 12, item 9): its output is clipped to about 1 KiB
 * wherever it is shown or stored, one selection's scripts share a bounded wall time, and a dry
 * run never holds up a live placement.
 */
import { describe, expect, it } from "vitest";
import { MAX_MESSAGE_BYTES } from "../../src/core/clip.ts";
import { admin, beat, enrolNode, listServers, sampleBody } from "./helpers.ts";

/** A clipped message: the limit plus the ellipsis and the count of what was cut. */
const CLIPPED_BYTES = MAX_MESSAGE_BYTES + 64;
const bytes = (text: string | undefined) => new TextEncoder().encode(text ?? "").byteLength;
const idle = sampleBody({ sessions: [], users: [], staticData: {} });

async function upPool(pool: string, nodes = 1): Promise<void> {
  expect((await admin("/v1/admin/pools", "POST", { name: pool })).status).toBe(201);
  for (let index = 0; index < nodes; index++) expect((await beat(await enrolNode(`${pool}-${index}`, pool), idle)).status).toBe(200);
}

async function setPolicy(pool: string, steps: unknown[]): Promise<Response> {
  return admin(`/v1/admin/pools/${pool}/policy`, "PUT", { policy: { steps } });
}

function select(pool: string, login: string): Promise<Response> {
  return admin(`/v1/pools/${pool}/select`, "POST", { action: "session/start", user: { login } });
}

function dryRun(pool: string, login: string, policy?: unknown): Promise<Response> {
  return admin(`/v1/admin/pools/${pool}/dry-run`, "POST", { action: "session/start", user: { login }, ...(policy ? { policy } : {}) });
}

interface Answer {
  text: string;
  json: { error?: { code: string; message: string }; message?: string; reason?: string; trace?: Array<{ message?: string }> };
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  return { text, json: JSON.parse(text) as Answer["json"] };
}

/** Waits `ms` on the test's own clock (only to let a request reach the pool object first). */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("script output is clipped wherever it is shown or stored", () => {
  it("a script returning a 3 MB string: the error body, the decision entry and the dry-run answer stay about 1 KiB", async () => {
    await upPool("huge");
    const script = "function (input) { const huge = 'x'.repeat(3000000); if (input.user.login === 'mallory') return huge; if (input.user.login === 'trudy') throw new Error(huge); return null; }";
    expect((await setPolicy("huge", [{ script, name: "huge" }, { use: "least-loaded" }])).status).toBe(200);

    const live = await select("huge", "mallory");
    expect(live.status).toBe(502);
    const error = await answer(live);
    expect(error.json.error?.code).toBe("POLICY_INVALID_RESULT");
    expect(bytes(error.json.error?.message)).toBeLessThanOrEqual(CLIPPED_BYTES);
    expect(bytes(error.text)).toBeLessThan(2 * CLIPPED_BYTES);

    const refused = await select("huge", "trudy");
    expect(refused.status).toBe(422);
    expect(bytes((await answer(refused)).text)).toBeLessThan(2 * CLIPPED_BYTES);

    const log = await answer(await admin("/v1/admin/pools/huge/decisions?limit=2"));
    const entries = (log.json as unknown as { decisions: Array<{ user: string; reason: string; trace: Array<{ message?: string }> }> }).decisions;
    expect(entries.map((entry) => entry.user)).toEqual(["trudy", "mallory"]);
    for (const entry of entries) {
      expect(bytes(entry.reason)).toBeLessThanOrEqual(CLIPPED_BYTES + 32);
      for (const step of entry.trace) expect(bytes(step.message)).toBeLessThanOrEqual(CLIPPED_BYTES);
    }
    expect(bytes(log.text)).toBeLessThan(8 * CLIPPED_BYTES);

    const dry = await answer(await dryRun("huge", "mallory"));
    expect(dry.json).toMatchObject({ ok: false, code: "POLICY_INVALID_RESULT" });
    expect(bytes(dry.json.message)).toBeLessThanOrEqual(CLIPPED_BYTES);
    expect(bytes(dry.text)).toBeLessThan(4 * CLIPPED_BYTES);

    const refusedSave = await setPolicy("huge", [{ script: "function (input) { return 'x'.repeat(3000000); }" }]);
    expect(refusedSave.status).toBe(400);
    expect(bytes((await answer(refusedSave)).text)).toBeLessThan(2 * CLIPPED_BYTES);
  });
});

describe("one selection's scripts share a bounded wall time", () => {
  it("two slow scripts that together exceed it fail the selection clearly and reserve nothing", async () => {
    await upPool("budget", 2);
    const slowFor = (name: string) => ({
      name,
      script: "async function (input) { if (input.user.login === 'slow') await new Promise((resolve) => setTimeout(resolve, 700)); return null; }",
    });
    expect((await setPolicy("budget", [slowFor("first"), slowFor("second"), { use: "least-loaded" }])).status).toBe(200);

    const response = await select("budget", "slow");
    expect(response.status).toBe(502);
    const { json } = await answer(response);
    expect(json.error?.code).toBe("POLICY_INVALID_RESULT");
    expect(json.error?.message).toMatch(/step 2 \(second\).*time budget/);
    expect((await listServers("budget")).map((server) => server.pendingSessions)).toEqual([0, 0]);

    expect((await select("budget", "alice")).status).toBe(200);
  });
});

describe("dry runs never delay live placements", () => {
  it("a live select completes while a dry run with a slow script is still in flight", async () => {
    await upPool("beside");
    const completed: string[] = [];
    const slowPolicy = { steps: [{ name: "slow", script: "async () => { await new Promise((resolve) => setTimeout(resolve, 800)); return null; }" }, { use: "least-loaded" }] };
    const dry = dryRun("beside", "admin-dry-run", slowPolicy).then((response) => {
      completed.push("dry run");
      return response;
    });
    await pause(200);
    const live = await select("beside", "alice");
    completed.push("live select");
    expect(live.status).toBe(200);
    expect(completed).toEqual(["live select"]);

    const dryAnswer = await answer(await dry);
    expect(completed).toEqual(["live select", "dry run"]);
    expect(dryAnswer.json).toMatchObject({ ok: true });
    expect((await listServers("beside")).map((server) => server.pendingSessions)).toEqual([1]);
  });
});
