import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, asUser, beat, call, enrolNode, expectError, listServers, sampleBody, type TestNode, userToken } from "./helpers.ts";

const idle = (overrides = {}) => sampleBody({ sessions: [], users: [], staticData: {}, ...overrides });

interface Answer {
  serverId: string;
  hostname: string;
  mode: string;
  sessionId: string;
  resumed: boolean;
  relay?: { url: string; ticket: string; expiresAt: number };
  redirect?: { host: string; port: number };
}

let nodes: TestNode[];
let alice: string;
let bob: string;

/** The tests start many sessions as one user, so the per-user limit is raised well above what they hold. */
async function profile(id: string, extra: Record<string, unknown> = {}) {
  const response = await admin("/v1/admin/profiles", "POST", { id, name: id, pool: "desk", mode: "relay", maxSessionsPerUser: 100, ...extra });
  if (response.status !== 201) throw new Error(`profile ${id}: ${response.status} ${await response.text()}`);
}

beforeAll(async () => {
  await admin("/v1/admin/pools", "POST", { name: "desk" });
  nodes = [];
  for (const [index, clientAddress] of ["desk-1.example.org:2201", undefined].entries()) {
    const node = await enrolNode(`desk-${index + 1}`, "desk", clientAddress ? { clientAddress } : {});
    await beat(node, idle());
    nodes.push(node);
  }
  await profile("relay-all");
  await profile("redirect-mapped", { mode: "redirect", hosts: [{ name: "desk-2", address: "10.0.0.2", port: 2222 }] });
  await profile("redirect-node", { mode: "redirect", hosts: [{ name: "desk-1" }] });
  await profile("staff-only", { acl: { groups: { allow: ["staff"], deny: ["ALL"], order: "allow-deny" } } });
  alice = await userToken("alice", ["staff"]);
  bob = await userToken("bob");
});

describe("profiles and sessions for a user", () => {
  it("lists only the profiles the user's ACLs allow", async () => {
    const list = async (token: string) =>
      ((await (await asUser(token, "/v1/profiles")).json()) as { profiles: Array<{ id: string }> }).profiles.map((p) => p.id).sort();
    expect(await list(alice)).toContain("staff-only");
    expect(await list(bob)).not.toContain("staff-only");
  });

  it("starts a relay session with a single-use ticket and the relay URL on this host", async () => {
    const response = await asUser(alice, "/v1/sessions", "POST", { profileId: "relay-all" });
    expect(response.status).toBe(201);
    const answer = (await response.json()) as Answer;
    expect(answer).toMatchObject({ mode: "relay", resumed: false });
    expect(answer.sessionId).toMatch(/^rsv_/);
    expect(answer.relay?.url).toBe(`wss://broker.test/v1/relay/${answer.serverId}`);
    expect(answer.relay?.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it("answers redirect targets from the profile's host mapping, else the node's client address", async () => {
    const mapped = (await (await asUser(alice, "/v1/sessions", "POST", { profileId: "redirect-mapped" })).json()) as Answer;
    expect(mapped).toMatchObject({ mode: "redirect", hostname: "desk-2", redirect: { host: "10.0.0.2", port: 2222 } });
    expect(mapped.relay).toBeUndefined();
    const fromNode = (await (await asUser(alice, "/v1/sessions", "POST", { profileId: "redirect-node" })).json()) as Answer;
    expect(fromNode).toMatchObject({ hostname: "desk-1", redirect: { host: "desk-1.example.org", port: 2201 } });
  });

  it("enforces ACLs when starting, not only when listing", async () => {
    await expectError(await asUser(bob, "/v1/sessions", "POST", { profileId: "staff-only" }), 404, "NOT_FOUND");
    expect((await asUser(alice, "/v1/sessions", "POST", { profileId: "staff-only" })).status).toBe(201);
  });

  it("answers a profile the ACL hides exactly like a missing one, on start and on resume", async () => {
    const errorOf = async (response: Response) => {
      const { code, message } = ((await response.json()) as { error: { code: string; message: string } }).error;
      return { status: response.status, code, message };
    };
    const cases = [
      (profileId: string) => asUser(bob, "/v1/sessions", "POST", { profileId }),
      (profileId: string) => asUser(bob, "/v1/sessions/a-1/resume", "POST", { profileId }),
    ];
    for (const send of cases) {
      const hidden = await errorOf(await send("staff-only"));
      const missing = await errorOf(await send("no-such-profile"));
      expect(hidden).toMatchObject({ status: 404, code: "NOT_FOUND" });
      expect({ ...hidden, message: hidden.message.replace("staff-only", "ID") }).toEqual({ ...missing, message: missing.message.replace("no-such-profile", "ID") });
    }
  });

  it("lists the user's sessions across pools; only admins list everyone's", async () => {
    await beat(nodes[0] as TestNode, idle({ sessions: [{ id: "a-1", user: "alice", state: "suspended", startedAt: 5 }, { id: "b-1", user: "bob", state: "running", startedAt: 6 }], users: ["alice", "bob"] }));
    const mine = (await (await asUser(alice, "/v1/sessions")).json()) as { sessions: Array<{ id: string; user: string; hostname: string }> };
    expect(mine.sessions.map((s) => s.id)).toEqual(["a-1"]);
    expect(mine.sessions[0]).toMatchObject({ user: "alice", hostname: "desk-1", pool: "desk" });
    await expectError(await asUser(alice, "/v1/sessions?all=true"), 403, "FORBIDDEN");
    await expectError(await asUser(alice, "/v1/sessions?user=bob"), 403, "FORBIDDEN");
    const everyone = (await (await admin("/v1/sessions?all=true")).json()) as { sessions: Array<{ id: string }> };
    expect(everyone.sessions.map((s) => s.id).sort()).toEqual(["a-1", "b-1"]);
  });

  it("resumes the user's own session; anyone else's is answered like one that does not exist", async () => {
    const resumed = await asUser(alice, "/v1/sessions/a-1/resume", "POST", { profileId: "relay-all" });
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ serverId: nodes[0]?.serverId, sessionId: "a-1", resumed: true });
    const errorOf = async (response: Response) => {
      const { code, message } = ((await response.json()) as { error: { code: string; message: string } }).error;
      return { status: response.status, code, message };
    };
    const someoneElses = await errorOf(await asUser(alice, "/v1/sessions/b-1/resume", "POST", { profileId: "relay-all" }));
    const missing = await errorOf(await asUser(alice, "/v1/sessions/nope/resume", "POST", { profileId: "relay-all" }));
    expect(someoneElses).toMatchObject({ status: 404, code: "NOT_FOUND" });
    expect({ ...someoneElses, message: someoneElses.message.replace("b-1", "ID") }).toEqual({ ...missing, message: missing.message.replace("nope", "ID") });
  });

  it("sends a returning user to their suspended session when starting on the profile", async () => {
    const answer = (await (await asUser(alice, "/v1/sessions", "POST", { profileId: "relay-all" })).json()) as Answer;
    expect(answer).toMatchObject({ serverId: nodes[0]?.serverId, sessionId: "a-1", resumed: true });
  });
});

describe("sessions API: errors and security", () => {
  it("refuses callers without a credential, and forged tokens", async () => {
    await expectError(await call("/v1/profiles"), 401, "UNAUTHORIZED");
    await expectError(await call("/v1/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }), 401, "UNAUTHORIZED");
    await expectError(await asUser(`${alice}x`, "/v1/sessions"), 401, "UNAUTHORIZED");
  });

  it.each([[{}], [{ profileId: "" }], [{ profileId: "a b" }], [{ profileId: "relay-all", extra: 1 }], [{ profileId: "relay-all", data: "x" }]])(
    "answers 400 for %j",
    async (body) => {
      await expectError(await asUser(alice, "/v1/sessions", "POST", body), 400, "BAD_REQUEST");
    },
  );

  it("answers 404 for an unknown profile", async () => {
    await expectError(await asUser(alice, "/v1/sessions", "POST", { profileId: "nope" }), 404, "NOT_FOUND");
  });
});

describe("relay endpoint before any node is reached", () => {
  // carol has no session anywhere, so each start is a new session (a reservation).
  let carol: string;
  beforeAll(async () => {
    carol = await userToken("carol");
  });
  async function ticketFor(profileId = "relay-all"): Promise<Answer> {
    return (await (await asUser(carol, "/v1/sessions", "POST", { profileId })).json()) as Answer;
  }
  const upgrade = { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" };

  it("answers 426 to a plain GET", async () => {
    await expectError(await call(`/v1/relay/${nodes[0]?.serverId}`), 426, "UPGRADE_REQUIRED");
  });

  it("refuses an upgrade with no ticket (401) or a ticket for another server (403)", async () => {
    await expectError(await call(`/v1/relay/${nodes[0]?.serverId}`, { headers: upgrade }), 401, "UNAUTHORIZED");
    const answer = await ticketFor();
    const other = nodes.find((node) => node.serverId !== answer.serverId) as TestNode;
    await expectError(await call(`/v1/relay/${other.serverId}?ticket=${answer.relay?.ticket}`, { headers: upgrade }), 403, "FORBIDDEN");
  });

  it("answers 502 when the node's origin is unreachable, after one re-selection, and marks it suspect", async () => {
    // The origins are loopback ports where nothing listens: as unreachable as a dead tunnel.
    const answer = await ticketFor();
    expect(answer.sessionId).toMatch(/^rsv_/);
    const response = await call(`/v1/relay/${answer.serverId}?ticket=${answer.relay?.ticket}`, { headers: upgrade });
    await expectError(response, 502, "ORIGIN_UNREACHABLE");
    expect((await listServers("desk")).find((server) => server.serverId === answer.serverId)?.status).toBe("down");
    await expectError(await call(`/v1/relay/${answer.serverId}?ticket=${answer.relay?.ticket}`, { headers: upgrade }), 401, "UNAUTHORIZED");
    await runInDurableObject(env.POOL.getByName("desk"), (_instance, state) => {
      state.storage.sql.exec("UPDATE nodes SET status = 'up'");
    });
    await evictDurableObject(env.POOL.getByName("desk"));
  });
});
