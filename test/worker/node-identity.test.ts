/**
 * Security findings on node identity (issue "Nobody takes what is not theirs", items 1 and 3):
 * an enrolment never replaces a node, a token for one pool never touches another, assertion keys
 * are random per enrolment and change on every re-key, and nodes of pools that require approval
 * take nothing until approved.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signingKey } from "../../src/tokens/broker-token.ts";
import { assertionKeyForEnrolment, signNodeAssertion } from "../../src/tokens/node-assertion.ts";
import { verifyBrokerAssertion } from "../../agent/assertion.ts";
import { REKEY_AUDIENCE, type EnrolResponse } from "../../src/protocol.ts";
import { admin, beat, call, callJson, enrolBody, enrolNode, expectError, issueToken, listServers, newKeyPair, sampleBody, signBeat, type TestNode } from "./helpers.ts";

async function enrolWith(token: string, hostname: string, keys: Awaited<ReturnType<typeof newKeyPair>>, extra: Record<string, unknown> = {}): Promise<Response> {
  return callJson("/v1/agent/enrol", "POST", enrolBody(token, hostname, keys.publicJwk, extra));
}

async function rekeyToken(pool: string, serverId: string): Promise<string> {
  const response = await admin(`/v1/admin/pools/${pool}/servers/${serverId}/rekey-tokens`, "POST", { ttlSeconds: 600 });
  expect(response.status).toBe(201);
  return ((await response.json()) as { token: string }).token;
}

async function storedSalt(serverId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT assertion_salt AS salt FROM nodes WHERE server_id = ?").bind(serverId).first<{ salt: string }>();
  return row?.salt ?? "";
}

/** Does `assertionKey` verify an assertion the relay would sign for this node now? */
async function keyVerifiesNow(serverId: string, assertionKey: string): Promise<boolean> {
  const key = signingKey(env.SIGNING_KEY) as Uint8Array;
  const assertion = await signNodeAssertion(key, { serverId, assertionSalt: await storedSalt(serverId), login: "alice", sessionId: "s-1" }, Date.now());
  return (await verifyBrokerAssertion(assertion, assertionKey, serverId, Date.now())).ok;
}

describe("enrolment never takes over a node", () => {
  it("refuses another node's hostname with 409, leaving the node, its key and the token as they were", async () => {
    const real = await enrolNode("id-victim");
    const attacker = await newKeyPair();
    const token = await issueToken();
    await expectError(await enrolWith(token, "id-victim", attacker), 409, "CONFLICT");
    expect((await beat(real)).status).toBe(200);
    expect((await listServers()).filter((server) => server.hostname === "id-victim").map((server) => server.serverId)).toEqual([real.serverId]);
    expect((await enrolWith(token, "id-newcomer", attacker)).status).toBe(201);
  });

  it("never lets a token for one pool touch a node of another", async () => {
    expect((await admin("/v1/admin/pools", "POST", { name: "id-other" })).status).toBe(201);
    const real = await enrolNode("id-stay");
    await expectError(await enrolWith(await issueToken("id-other"), "id-stay", await newKeyPair()), 409, "CONFLICT");
    expect((await listServers("default")).map((server) => server.serverId)).toContain(real.serverId);
    expect((await listServers("id-other")).map((server) => server.hostname)).not.toContain("id-stay");
    expect((await beat(real)).status).toBe(200);
  });

  it("hands every enrolment an assertion key of its own, unrelated to the serverId alone", async () => {
    const keys = await newKeyPair();
    const response = await enrolWith(await issueToken(), "id-keys", keys);
    const enrolled = (await response.json()) as EnrolResponse;
    const key = signingKey(env.SIGNING_KEY) as Uint8Array;
    expect(enrolled.assertionKey).toBe(await assertionKeyForEnrolment(key, enrolled.serverId, await storedSalt(enrolled.serverId)));
    expect(enrolled.assertionKey).not.toBe(await assertionKeyForEnrolment(key, enrolled.serverId, ""));
    expect(await keyVerifiesNow(enrolled.serverId, enrolled.assertionKey as string)).toBe(true);
  });
});

describe("re-keys", () => {
  it("with an admin's re-key token: same serverId, new key and assertion key; the old ones stop at once", async () => {
    const keys = await newKeyPair();
    const first = (await (await enrolWith(await issueToken(), "id-rekey", keys)).json()) as EnrolResponse;
    const node: TestNode = { hostname: "id-rekey", ...keys, serverId: first.serverId, pool: first.pool, seq: 0 };
    const fresh = await newKeyPair();
    const token = await rekeyToken("default", first.serverId);
    const again = await enrolWith(token, "id-rekey", fresh);
    expect(again.status).toBe(201);
    const second = (await again.json()) as EnrolResponse;
    expect(second.serverId).toBe(first.serverId);
    expect(second.assertionKey).not.toBe(first.assertionKey);
    await expectError(await beat(node), 401, "UNAUTHORIZED");
    expect((await beat({ ...node, ...fresh, seq: 0 })).status).toBe(200);
    expect(await keyVerifiesNow(first.serverId, first.assertionKey as string)).toBe(false);
    expect(await keyVerifiesNow(first.serverId, second.assertionKey as string)).toBe(true);
    await expectError(await enrolWith(token, "id-rekey", await newKeyPair()), 401, "UNAUTHORIZED");
  });

  it("refuses a re-key token for another hostname, and one for a node of another pool", async () => {
    const node = await enrolNode("id-rk-a");
    await expectError(await enrolWith(await rekeyToken("default", node.serverId), "id-rk-b", await newKeyPair()), 409, "CONFLICT");
    expect((await admin("/v1/admin/pools", "POST", { name: "id-elsewhere" })).status).toBe(201);
    await expectError(await admin(`/v1/admin/pools/id-elsewhere/servers/${node.serverId}/rekey-tokens`, "POST", {}), 404, "NOT_FOUND");
  });

  it("signed with the node's current key: accepted once, the old key stops at once, a replay is refused", async () => {
    const node = await enrolNode("id-self");
    const fresh = await newKeyPair();
    const body = JSON.stringify({ publicKey: fresh.publicJwk, originUrl: "http://127.0.0.1:6080/id-self" });
    const token = await signBeat(node, body, { aud: REKEY_AUDIENCE });
    const send = () => call("/v1/agent/rekey", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body });
    const answer = await send();
    expect(answer.status).toBe(201);
    expect(((await answer.json()) as EnrolResponse).serverId).toBe(node.serverId);
    await expectError(await beat(node), 401, "UNAUTHORIZED");
    expect((await beat({ ...node, ...fresh, seq: 0 })).status).toBe(200);
    await expectError(await send(), 401, "UNAUTHORIZED");
  });

  it("refuses a heartbeat token as a re-key", async () => {
    const node = await enrolNode("id-wrong-aud");
    const body = JSON.stringify({ publicKey: (await newKeyPair()).publicJwk, originUrl: "http://127.0.0.1:6080/id-wrong-aud" });
    const token = await signBeat(node, body);
    await expectError(await call("/v1/agent/rekey", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body }), 401, "UNAUTHORIZED");
    expect((await beat(node)).status).toBe(200);
  });
});

describe("node approval", () => {
  it("keeps a new node of a pool that requires approval pending: no placements, its sessions never offered, until approved", async () => {
    expect((await admin("/v1/admin/pools", "POST", { name: "id-appr", intervalMs: 300_000 })).status).toBe(201);
    const rogue = await newKeyPair();
    const enrolled = await enrolWith(await issueToken("id-appr", 600, { preApproved: false }), "id-rogue", rogue);
    expect(((await enrolled.clone().json()) as EnrolResponse).approved).toBe(false);
    const { serverId, pool } = (await enrolled.json()) as EnrolResponse;
    const node: TestNode = { hostname: "id-rogue", ...rogue, serverId, pool, seq: 0 };
    const lure = { id: "carol-lure", user: "carol", state: "suspended" as const, startedAt: 1_700_000_000_000 };
    const reply = await beat(node, sampleBody({ sessions: [lure], users: ["carol"] }));
    expect(await reply.json()).toMatchObject({ status: "pending" });
    expect((await listServers("id-appr"))[0]?.status).toBe("pending");
    const select = (login: string) => admin("/v1/pools/id-appr/select", "POST", { user: { login } });
    await expectError(await select("carol"), 503, "NO_SERVER_AVAILABLE");
    const everyone = (await (await admin("/v1/sessions?all=true")).json()) as { sessions: Array<{ id: string }> };
    expect(everyone.sessions.map((session) => session.id)).not.toContain("carol-lure");

    const approved = await admin(`/v1/admin/pools/id-appr/servers/${serverId}/approve`, "POST");
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ status: "up" });
    expect(await (await select("carol")).json()).toMatchObject({ serverId, resumeSessionId: "carol-lure" });
  });

  it("approves at once a node enrolled with a pre-approved token, and one in a pool that does not require approval", async () => {
    expect((await admin("/v1/admin/pools", "POST", { name: "id-open", requireApproval: false })).status).toBe(201);
    const open = await enrolWith(await issueToken("id-open", 600, { preApproved: false }), "id-open-1", await newKeyPair());
    expect(((await open.json()) as EnrolResponse).approved).toBe(true);
    const pre = await enrolWith(await issueToken("default", 600, { preApproved: true }), "id-pre-1", await newKeyPair());
    expect(((await pre.json()) as EnrolResponse).approved).toBe(true);
  });

  it("answers 404 when approving a server that is not in the pool", async () => {
    await expectError(await admin("/v1/admin/pools/default/servers/srv_AAAAAAAAAAAAAAAAAAAA/approve", "POST"), 404, "NOT_FOUND");
  });
});
