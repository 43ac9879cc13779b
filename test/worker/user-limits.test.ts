/**
 * One user cannot fill a pool for everyone (issue "Nobody takes what is not theirs", item 4):
 * per-profile limits on what one user holds (sessions plus pending starts), the profile's ACL on
 * every path that places, a rate limit on user selects, and a decision log one user cannot
 * crowd.
 */
import { describe, expect, it } from "vitest";
import { DECISIONS_PER_USER } from "../../src/pool/placement-store.ts";
import { admin, asUser, beat, enrolNode, expectError, sampleBody, type TestNode, userToken } from "./helpers.ts";

async function pool(name: string, servers: number): Promise<TestNode[]> {
  expect((await admin("/v1/admin/pools", "POST", { name, intervalMs: 300_000 })).status).toBe(201);
  const nodes: TestNode[] = [];
  for (let index = 0; index < servers; index++) {
    const node = await enrolNode(`${name}-${index}`, name);
    expect((await beat(node, sampleBody({ sessions: [], users: [], staticData: { maxSessions: 50 } }))).status).toBe(200);
    nodes.push(node);
  }
  return nodes;
}

async function profile(id: string, pool: string, extra: Record<string, unknown> = {}): Promise<void> {
  expect((await admin("/v1/admin/profiles", "POST", { id, name: id, pool, mode: "relay", ...extra })).status).toBe(201);
}

describe("per-user limits", () => {
  it("refuses a user's start beyond the profile's limit with 409, while others still get places", async () => {
    await pool("ul-fill", 2);
    await profile("ul-fill-desk", "ul-fill", { maxSessionsPerUser: 2 });
    const greedy = await userToken("ul-greedy");
    const start = (token: string) => asUser(token, "/v1/sessions", "POST", { profileId: "ul-fill-desk" });
    expect((await start(greedy)).status).toBe(201);
    expect((await start(greedy)).status).toBe(201);
    await expectError(await start(greedy), 409, "SESSION_LIMIT_REACHED");
    expect((await start(await userToken("ul-other"))).status).toBe(201);
  });

  it("applies a default limit of 3 when the profile names none", async () => {
    await pool("ul-default", 1);
    await profile("ul-default-desk", "ul-default");
    const user = await userToken("ul-defaulted");
    for (let start = 0; start < 3; start++) expect((await asUser(user, "/v1/sessions", "POST", { profileId: "ul-default-desk" })).status).toBe(201);
    await expectError(await asUser(user, "/v1/sessions", "POST", { profileId: "ul-default-desk" }), 409, "SESSION_LIMIT_REACHED");
  });

  it("still resumes a user's own session at the limit", async () => {
    const [node] = await pool("ul-resume", 1);
    await profile("ul-resume-desk", "ul-resume", { maxSessionsPerUser: 1 });
    const suspended = { id: "ul-back-1", user: "ul-back", state: "suspended" as const, startedAt: 1_700_000_000_000 };
    expect((await beat(node as TestNode, sampleBody({ sessions: [suspended], users: ["ul-back"] }))).status).toBe(200);
    const user = await userToken("ul-back");
    const resumed = await asUser(user, "/v1/sessions", "POST", { profileId: "ul-resume-desk" });
    expect(resumed.status).toBe(201);
    expect(await resumed.json()).toMatchObject({ resumed: true, sessionId: "ul-back-1" });
  });
});

describe("select as a user", () => {
  it("needs a profile of this pool that admits the user; a hidden or foreign one is answered like a missing one", async () => {
    await pool("ul-sel", 1);
    await pool("ul-sel-other", 1);
    await profile("ul-sel-open", "ul-sel");
    await profile("ul-sel-staff", "ul-sel", { acl: { groups: { allow: ["staff"], deny: ["ALL"], order: "allow-deny" } } });
    await profile("ul-sel-foreign", "ul-sel-other");
    const user = await userToken("ul-selector");
    const select = (body: Record<string, unknown>) => asUser(user, "/v1/pools/ul-sel/select", "POST", body);
    await expectError(await select({ action: "session/start" }), 400, "BAD_REQUEST");
    await expectError(await select({ profileId: "ul-sel-staff" }), 404, "NOT_FOUND");
    await expectError(await select({ profileId: "ul-sel-foreign" }), 404, "NOT_FOUND");
    await expectError(await select({ profileId: "ul-sel-missing" }), 404, "NOT_FOUND");
    expect((await select({ profileId: "ul-sel-open" })).status).toBe(200);
  });

  it("rate-limits a user's selects like session starts", async () => {
    await pool("ul-rate", 1);
    await profile("ul-rate-desk", "ul-rate");
    const user = await userToken("ul-hammer");
    let last = 0;
    // 60 a minute in fixed windows: a window may turn mid-loop, so allow two windows' worth and one.
    for (let attempt = 0; attempt < 121 && last !== 429; attempt++) last = (await asUser(user, "/v1/pools/ul-rate/select", "POST", { profileId: "ul-rate-desk" })).status;
    expect(last).toBe(429);
  });
});

describe("the decision log", () => {
  it("keeps other users' decisions when one user floods it", async () => {
    await pool("ul-log", 2);
    const select = (login: string) => admin("/v1/pools/ul-log/select", "POST", { user: { login } });
    expect((await select("ul-victim")).status).toBe(200);
    for (let flood = 0; flood < 250; flood++) await select("ul-flooder");
    const log = (await (await admin("/v1/admin/pools/ul-log/decisions?limit=200")).json()) as { decisions: Array<{ user: string }> };
    expect(log.decisions.map((decision) => decision.user)).toContain("ul-victim");
    expect(log.decisions.filter((decision) => decision.user === "ul-flooder").length).toBe(DECISIONS_PER_USER);
  });
});
