/**
 * X2Go sessions as X2Go clients expect them (issue 14, item 5): the SESSION_INFO of /plain/ and
 * /json/ carries the x2golistsessions fields a node reported (pid, display, cookie, client
 * address, ports, last time) and the SERVER: host as its host; a node's hostile x2go fields are
 * refused at the heartbeat and never reach a line; a profile over the whole pool lists a real
 * server hostname, never the pool's name; the admin API's server views leave the X cookie out.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { admin, beat, call, enrolNode, expectError, sampleBody, type TestNode } from "./helpers.ts";

const PASSWORD = "sweet-sweet-1";
const POOL = "xsi";
const STARTED_AT = Date.UTC(2026, 10, 20, 10, 11, 12);
const X2GO = { pid: 28417, cookie: "8c1f2e4d5a6b7c8d9e0f1a2b3c4d5e6f", graphicsPort: 30001, soundPort: 30002, sshfsPort: 30003 };
const SESSION = {
  id: "vera-50-1763633472_stDXFCE_dp24",
  user: "vera",
  state: "suspended" as const,
  startedAt: STARTED_AT,
  display: "50",
  clientIp: "10.0.4.21",
  lastActiveAt: STARTED_AT + 5_453_000,
  x2go: X2GO,
};
/** The line x2golistsessions printed on the node (in UTC), but the age, which is counted at the answer. */
const EXPECTED = `28417|${SESSION.id}|50|xsi-c|S|2026-11-20T10:11:12|${X2GO.cookie}|10.0.4.21|30001|30002|2026-11-20T11:42:05|vera`;
const EXPECTED_TAIL = ["30003", "-1", "-1"];

let holder: TestNode;

function form(path: string, fields: Record<string, string>): Promise<Response> {
  return call(path, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
}

async function plainSessionInfo(user: string, sid: string): Promise<string> {
  const body = await (await form("/plain/", { task: "selectsession", sid, user, password: PASSWORD, authid: "" })).text();
  expect(body.split("SESSION_INFO:")).toHaveLength(2);
  return /\nSESSION_INFO:([^\n]*)\n$/.exec(body)?.[1] ?? "";
}

async function jsonSessionInfo(user: string, profileId: string): Promise<string> {
  const body = await (await form("/json/", { task: "selectsession", "profile-id": profileId, user, password: PASSWORD })).text();
  return (JSON.parse(body) as { selected_session: { session_info?: string } }).selected_session.session_info ?? "";
}

function expectReportedLine(line: string): void {
  const fields = line.split("|");
  expect(fields).toHaveLength(16);
  expect(fields.slice(0, 12).join("|")).toBe(EXPECTED);
  expect(Number(fields[12])).toBeGreaterThanOrEqual(Math.floor((Date.now() - STARTED_AT) / 1000) - 5);
  expect(fields.slice(13)).toEqual(EXPECTED_TAIL);
}

async function plainHost(user: string, profileId: string): Promise<string | undefined> {
  const body = await (await form("/plain/", { task: "listsessions", user, password: PASSWORD, authid: "" })).text();
  return new RegExp(`\\n\\[${profileId}\\]\\n(?:[^\\n]+\\n)*?host=([^\\n]*)\\n`).exec(body)?.[1];
}

async function jsonHost(user: string, profileId: string): Promise<unknown> {
  const body = await (await form("/json/", { task: "listprofiles", user, password: PASSWORD })).text();
  return (JSON.parse(body) as { profiles: Record<string, { host?: unknown }> }).profiles[profileId]?.host;
}

beforeAll(async () => {
  for (const pool of [POOL, "xsi-drained", "xsi-none"]) expect((await admin("/v1/admin/pools", "POST", { name: pool })).status).toBe(201);
  // Enrolled out of name order: the listing's host is the first up server by name, not the first enrolled.
  holder = await enrolNode("xsi-c", POOL);
  const drained = await enrolNode("xsi-a", POOL);
  const up = await enrolNode("xsi-b", POOL);
  const alone = await enrolNode("xsi-d", "xsi-drained");
  expect((await beat(holder, sampleBody({ sessions: [SESSION], users: ["vera"] }))).status).toBe(200);
  for (const node of [drained, up, alone]) expect((await beat(node, sampleBody({ sessions: [], users: [] }))).status).toBe(200);
  for (const node of [drained, alone]) expect((await admin(`/v1/admin/pools/${node.pool}/servers/${node.serverId}/drain`, "POST")).status).toBe(200);
  for (const login of ["vera", "una"]) expect((await admin("/v1/admin/users", "POST", { login, password: PASSWORD })).status).toBe(201);
  const profile = { mode: "redirect", maxSessionsPerUser: 100, hosts: [] };
  expect((await admin("/v1/admin/profiles", "POST", { ...profile, id: "whole", name: "Whole pool", pool: POOL })).status).toBe(201);
  expect((await admin("/v1/admin/profiles", "POST", { ...profile, id: "drained", name: "Drained pool", pool: "xsi-drained" })).status).toBe(201);
  expect((await admin("/v1/admin/profiles", "POST", { ...profile, id: "none", name: "Empty pool", pool: "xsi-none" })).status).toBe(201);
  const mapped = { ...profile, id: "mapped", name: "Mapped", pool: POOL, hosts: [{ name: "xsi-c", address: "10.1.2.3", port: 2222 }] };
  expect((await admin("/v1/admin/profiles", "POST", mapped)).status).toBe(201);
});

describe("SESSION_INFO from what the node read", () => {
  it("answers the node's x2golistsessions fields in /plain/", async () => {
    expectReportedLine(await plainSessionInfo("vera", "whole"));
  });

  it("answers the same line as session_info in /json/", async () => {
    expectReportedLine(await jsonSessionInfo("vera", "whole"));
  });

  it("writes the SERVER: host as the line's host, where x2goclient 4.1.2 connects to resume", async () => {
    const body = await (await form("/plain/", { task: "selectsession", sid: "mapped", user: "vera", password: PASSWORD, authid: "" })).text();
    expect(body).toMatch(/\nSERVER:10\.1\.2\.3:2222\nSESSION_INFO:/);
    expect(/\nSESSION_INFO:([^\n]*)\n$/.exec(body)?.[1]?.split("|")[3]).toBe("10.1.2.3");
  });

  it("still fills what a node did not report, so the line parses", async () => {
    const bare = { id: "vera-60-1763633472_stDMATE_dp24", user: "vera", state: "suspended" as const, startedAt: STARTED_AT + 1000 };
    expect((await admin("/v1/admin/pools", "POST", { name: "xsi-bare" })).status).toBe(201);
    expect((await admin("/v1/admin/profiles", "POST", { id: "bare", name: "Bare", pool: "xsi-bare", mode: "redirect", maxSessionsPerUser: 100 })).status).toBe(201);
    const node = await enrolNode("xsi-bare-1", "xsi-bare");
    expect((await beat(node, sampleBody({ sessions: [bare], users: ["vera"] }))).status).toBe(200);
    const fields = (await plainSessionInfo("vera", "bare")).split("|");
    expect([fields[0], fields[2], fields[6], fields[7], fields[8], fields[13]]).toEqual(["0", "60", "0".repeat(32), "0.0.0.0", "-1", "-1"]);
  });
});

describe("the admin API's server views", () => {
  it("carry the session's x2go fields but its X cookie, which only the session's user gets", async () => {
    const { cookie: _cookie, ...withoutCookie } = X2GO;
    const one = (await (await admin(`/v1/admin/pools/${POOL}/servers/${holder.serverId}`)).json()) as { sessions: Array<{ id: string; x2go?: object }> };
    const listed = (await (await admin(`/v1/admin/pools/${POOL}/servers`)).json()) as { servers: Array<{ serverId: string; sessions: Array<{ id: string; x2go?: object }> }> };
    const fromList = listed.servers.find((server) => server.serverId === holder.serverId);
    for (const sessions of [one.sessions, fromList?.sessions ?? []]) expect(sessions.find((session) => session.id === SESSION.id)?.x2go).toEqual(withoutCookie);
    expectReportedLine(await plainSessionInfo("vera", "whole"));
  });
});

describe("hostile x2go fields from a node", () => {
  it.each([
    ["a cookie with |", { cookie: "8c1f|2e4d" }],
    ["a cookie with :", { cookie: "SESSION_INFO:8c1f" }],
    ["a cookie with a line break", { cookie: "8c1f\nSERVER:evil.example:22" }],
    ["a cookie with <br>", { cookie: "8c1f<br>host=evil" }],
    ["a cookie with a space", { cookie: "8c1f 2e4d" }],
    ["a cookie of 65 hex digits", { cookie: "a".repeat(65) }],
    ["an empty cookie", { cookie: "" }],
    ["a pid above Linux's 2^22", { pid: 4_194_305 }],
    ["a pid of 1e300", { pid: 1e300 }],
    ["a negative pid", { pid: -1 }],
    ["a fractional pid", { pid: 1.5 }],
    ["a pid as text", { pid: "28417|x" }],
    ["a port of 0", { graphicsPort: 0 }],
    ["a port above 65535", { soundPort: 65_536 }],
    ["a fractional port", { sshfsPort: 22.5 }],
    ["x2go as a string", "28417|x|50"],
  ])("refuses %s with 400 and keeps the last good line", async (_label, x2go) => {
    const fields = typeof x2go === "string" ? x2go : { ...X2GO, ...x2go };
    await expectError(await beat(holder, sampleBody({ sessions: [{ ...SESSION, x2go: fields as typeof X2GO }], users: ["vera"] })), 400, "BAD_REQUEST");
    expectReportedLine(await plainSessionInfo("vera", "whole"));
  });

  it("accepts the largest values the bounds allow and answers them as they are", async () => {
    const widest = { pid: 4_194_304, cookie: "F".repeat(64), graphicsPort: 65_535, soundPort: 1, sshfsPort: 65_535 };
    expect((await beat(holder, sampleBody({ sessions: [{ ...SESSION, x2go: widest }], users: ["vera"] }))).status).toBe(200);
    const fields = (await plainSessionInfo("vera", "whole")).split("|");
    expect([fields[0], fields[6], fields[8], fields[9], fields[13]]).toEqual(["4194304", "F".repeat(64), "65535", "1", "65535"]);
    expect((await beat(holder, sampleBody({ sessions: [SESSION], users: ["vera"] }))).status).toBe(200);
  });
});

describe("the host of a profile over the whole pool", () => {
  it("is the first up server by name for a user with no session, never the pool's name", async () => {
    expect(await plainHost("una", "whole")).toBe("xsi-b");
    expect(await jsonHost("una", "whole")).toEqual(["xsi-b"]);
  });

  it("is the server holding the user's session when there is one", async () => {
    expect(await plainHost("vera", "whole")).toBe("xsi-c");
  });

  it("is x2gobroker's no-X2Go-Server-available when no server of the pool takes sessions", async () => {
    for (const profileId of ["drained", "none"]) {
      expect(await plainHost("una", profileId)).toBe("no-X2Go-Server-available");
      expect(await jsonHost("una", profileId)).toEqual(["no-X2Go-Server-available"]);
    }
  });
});
