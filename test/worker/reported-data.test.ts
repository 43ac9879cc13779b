/**
 * What a node reports is untrusted (issue "Nobody takes what is not theirs", item 6): numbers and
 * times beyond the protocol's bounds are refused with 400, and every view copes with the most
 * extreme values the bounds let through (no "Invalid time value" 500s).
 */
import { describe, expect, it } from "vitest";
import { MAX_EPOCH_MS, MAX_REPORTED_NUMBER } from "../../src/protocol.ts";
import { admin, asUser, beat, call, dashboardSession, enrolNode, expectError, sampleBody, userToken } from "./helpers.ts";

const HUGE = Number.MAX_SAFE_INTEGER;

describe("node-reported fields out of bounds", () => {
  it.each([
    ["a session started in year 285,616", { sessions: [{ id: "s", user: "bob", state: "running", startedAt: HUGE }] }],
    ["a session last active after 2100", { sessions: [{ id: "s", user: "bob", state: "running", startedAt: 1, lastActiveAt: MAX_EPOCH_MS + 1 }] }],
    ["a load average of 1e300", { loadAvg: [1e300, 0, 0] }],
    ["a CPU of 1e300 MHz", { cpuMhz: 1e300 }],
    ["a metric of -1e300", { metrics: { temp: -1e300 } }],
    ["static data of 1e300", { staticData: { maxSessions: 1e300 } }],
    ["more memory than a double holds exactly", { memTotalBytes: HUGE + 2 }],
  ])("refuses %s with 400 and keeps the last good state", async (_label, fields) => {
    const node = await enrolNode(`rd-${Math.random().toString(36).slice(2, 8)}`);
    expect((await beat(node)).status).toBe(200);
    await expectError(await beat(node, { ...sampleBody(), ...fields }), 400, "BAD_REQUEST");
  });
});

describe("views with the most extreme values the bounds allow", () => {
  it("answers every page and API that shows node data without a 5xx", async () => {
    expect((await admin("/v1/admin/pools", "POST", { name: "rd-edge", intervalMs: 300_000 })).status).toBe(201);
    expect((await admin("/v1/admin/profiles", "POST", { id: "rd-desk", name: "Desk", pool: "rd-edge", mode: "redirect", maxSessionsPerUser: 10 })).status).toBe(201);
    const node = await enrolNode("rd-edge-1", "rd-edge");
    const session = { id: "rd-s", user: "rd-bob", state: "suspended" as const, startedAt: MAX_EPOCH_MS, lastActiveAt: MAX_EPOCH_MS, display: ":".repeat(64) };
    const extreme = sampleBody({
      loadAvg: [MAX_REPORTED_NUMBER, MAX_REPORTED_NUMBER, MAX_REPORTED_NUMBER],
      cpuMhz: MAX_REPORTED_NUMBER,
      cpuCount: 65_536,
      memTotalBytes: Number.MAX_SAFE_INTEGER,
      memAvailableBytes: 0,
      sessions: [session, { ...session, id: "rd-zero", startedAt: 0 }],
      users: ["rd-bob"],
      staticData: { maxSessions: MAX_REPORTED_NUMBER, floor: -MAX_REPORTED_NUMBER },
      metrics: { big: MAX_REPORTED_NUMBER, small: -MAX_REPORTED_NUMBER },
    });
    expect((await beat(node, extreme)).status).toBe(200);
    const bob = await userToken("rd-bob", [], "sweet-sweet-1");
    const ui = await dashboardSession();
    const answers = [
      await admin("/v1/admin/pools/rd-edge/servers"),
      await admin("/v1/sessions?all=true"),
      await asUser(bob, "/v1/sessions"),
      await asUser(bob, "/v1/sessions", "POST", { profileId: "rd-desk" }),
      await ui.get("/admin/servers"),
      await ui.get("/admin/api/servers"),
      await ui.get("/admin/sessions"),
      await ui.get("/admin/decisions"),
      await x2go("listsessions"),
      await x2go("selectsession", "rd-desk"),
    ];
    expect(answers.map((answer) => answer.status).filter((status) => status >= 500)).toEqual([]);
  });
});

function x2go(task: string, sid?: string): Promise<Response> {
  const fields = { user: "rd-bob", password: "sweet-sweet-1", authid: "", task, ...(sid ? { sid } : {}) };
  return call("/plain/", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
}
