/**
 * What a relay ticket carries for the relay's fallback, and the fallback refusing to place
 * without it, in workerd with real D1 and pool objects. The nodes' origins are loopback ports
 * where nothing listens, so every connect fails; what the fallback placed is read from the
 * pool's decision log. (The fallback reaching a live node: test/integration/relay-fallback.test.ts.)
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signingKey, verifyToken } from "../../src/tokens/broker-token.ts";
import { MAX_PLACEMENT_CLAIM_CHARS, RELAY_TICKET, type RelayTicketClaims } from "../../src/tokens/relay-ticket.ts";
import { issueTicket } from "../../src/relay/tickets.ts";
import type { Identity } from "../../src/auth/identity.ts";
import { admin, asUser, beat, call, enrolNode, expectError, sampleBody, type TestNode, userToken } from "./helpers.ts";

const POOL = "fallback";
const upgrade = { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" };
let nodes: TestNode[];
let dora: string;

async function claimsOf(ticket: string): Promise<RelayTicketClaims> {
  const verdict = await verifyToken(signingKey(env.SIGNING_KEY) as Uint8Array, RELAY_TICKET, ticket, Date.now());
  if (!verdict.ok) throw new Error(`ticket refused: ${verdict.error}`);
  return verdict.value;
}

async function decisionCount(): Promise<number> {
  return ((await (await admin(`/v1/admin/pools/${POOL}/decisions?limit=200`)).json()) as { decisions: unknown[] }).decisions.length;
}

beforeAll(async () => {
  await admin("/v1/admin/pools", "POST", { name: POOL });
  nodes = [];
  for (const name of ["fb-1", "fb-2"]) {
    const node = await enrolNode(name, POOL);
    await beat(node, sampleBody({ sessions: [], users: [], staticData: {} }));
    nodes.push(node);
  }
  const created = await admin("/v1/admin/profiles", "POST", { id: "fb-all", name: "fb-all", pool: POOL, mode: "relay", hosts: [], acl: {} });
  expect(created.status).toBe(201);
  dora = await userToken("dora", ["staff", "lab"]);
});

describe("a relay ticket for a new session", () => {
  it("carries what the first placement used: the user's groups and flags, and the request data", async () => {
    const response = await asUser(dora, "/v1/sessions", "POST", { profileId: "fb-all", data: { seat: "lab-b12" } });
    expect(response.status).toBe(201);
    const answer = (await response.json()) as { sessionId: string; relay: { ticket: string } };
    expect(answer.sessionId).toMatch(/^rsv_/);
    expect((await claimsOf(answer.relay.ticket)).plc).toEqual({ grp: ["staff", "lab"], adm: false, mgr: false, src: "password", dat: { seat: "lab-b12" } });
  });

  it(`leaves them out when they exceed ${MAX_PLACEMENT_CLAIM_CHARS} characters, and the relay then refuses to place again`, async () => {
    const identity: Identity = { login: "dora", groups: Array.from({ length: 200 }, (_, index) => `group-${index}`), isAdmin: false, isManager: false, source: "oidc" };
    const serverId = (nodes[0] as TestNode).serverId;
    const subject = { login: "dora", pool: POOL, serverId, sessionId: "rsv_oversized", profileId: "fb-all", placement: { identity, data: {} } };
    const { ticket } = await issueTicket(env, subject, Date.now());
    expect((await claimsOf(ticket)).plc).toBeUndefined();

    // Without the user's groups the fallback could only place with none, which an ACL denying a
    // group would wrongly admit; so it places nothing and answers 502.
    const before = await decisionCount();
    await expectError(await call(`/v1/relay/${serverId}?ticket=${ticket}`, { headers: upgrade }), 502, "ORIGIN_UNREACHABLE");
    expect(await decisionCount()).toBe(before);
    await runInDurableObject(env.POOL.getByName(POOL), (_instance, state) => {
      state.storage.sql.exec("UPDATE nodes SET status = 'up'");
    });
    await evictDurableObject(env.POOL.getByName(POOL));
  });
});
