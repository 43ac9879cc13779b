/**
 * Authorisation across callers and over time: another user's session, sessions list, placement,
 * relay ticket or X2Go cookie is refused; a replayed heartbeat, relay ticket, enrolment token or
 * X2Go cookie is refused. Each refusal changes nothing and leaks nothing.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { errorEnvelopeSchema } from "../../src/protocol.ts";
import { redeemTicket } from "../../src/relay/tickets.ts";
import { enrolBody, newKeyPair, sampleBody } from "./helpers.ts";
import { BOB_SESSION_ID, type Fixture, PASSWORD, POOL, PROFILE_ID, setUpFixture } from "./hostile/fixture.ts";
import { expectNoLeak, secretsOf } from "./hostile/leaks.ts";
import { expectUnchanged, snapshotState } from "./hostile/snapshot.ts";
import { beatToken, genuineTicket } from "./hostile/tokens.ts";

let fx: Fixture;

beforeAll(async () => {
  fx = await setUpFixture();
});

interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

function send(call: Call): Promise<Response> {
  const init: RequestInit = { method: call.method ?? "GET", headers: call.headers ?? {}, redirect: "manual" };
  if (call.body !== undefined) init.body = call.body;
  return exports.default.fetch(new Request(`https://broker.test${call.path}`, init));
}

const json = (token: string) => ({ Authorization: `Bearer ${token}`, "Content-Type": "application/json" });
const upgrade = { Upgrade: "websocket", Connection: "Upgrade" };
const form = (fields: Record<string, string>, headers: Record<string, string> = {}): Call => ({
  method: "POST",
  path: "/plain/",
  headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
  body: new URLSearchParams(fields).toString(),
});

/** Sends `call`, expects `status` (with the JSON envelope unless an X2Go page), no change and no leak. */
async function expectRefused(call: Call, status: number, what: string): Promise<void> {
  const before = await snapshotState();
  const secrets = await secretsOf(fx, before);
  const response = await send(call);
  const text = await response.text();
  expect(response.status, `${what}: ${text.slice(0, 200)}`).toBe(status);
  if (call.path.startsWith("/plain/")) expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
  else expect(errorEnvelopeSchema.safeParse(JSON.parse(text)).success, text).toBe(true);
  expectNoLeak({ text, headers: response.headers }, JSON.stringify(call), secrets, what);
  expectUnchanged(before, await snapshotState(), what);
}

async function x2goCookie(user: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<string> {
  const response = await send(form({ user, task: "listsessions", ...fields }, headers));
  const match = /^AUTHID:([^\n]+)\n/.exec(await response.text());
  if (response.status !== 200 || !match?.[1]) throw new Error(`x2go sign-in: ${response.status}`);
  return match[1];
}

describe("authorisation: another user's things", () => {
  it("refuses to resume another user's session, answering as if it did not exist", async () => {
    await expectRefused({ method: "POST", path: `/v1/sessions/${BOB_SESSION_ID}/resume`, headers: json(fx.alice), body: JSON.stringify({ profileId: PROFILE_ID }) }, 404, "alice resuming bob's session");
  });

  it("refuses to list another user's sessions, or everyone's, to a plain user", async () => {
    await expectRefused({ path: "/v1/sessions?user=bob", headers: json(fx.alice) }, 403, "alice listing bob's sessions");
    await expectRefused({ path: "/v1/sessions?all=true", headers: json(fx.alice) }, 403, "alice listing every session");
  });

  it("refuses to place a session for another user", async () => {
    await expectRefused({ method: "POST", path: `/v1/pools/${POOL}/select`, headers: json(fx.alice), body: JSON.stringify({ user: { login: "bob" } }) }, 403, "alice selecting for bob");
  });

  it("refuses a relay ticket at a server it does not name, and leaves it unspent", async () => {
    const bobs = await genuineTicket(fx.nodeA.serverId, "bob");
    await expectRefused({ path: `/v1/relay/${fx.nodeB.serverId}?ticket=${bobs}`, headers: upgrade }, 403, "bob's ticket for one server at another");
    await expect(redeemTicket(env, bobs, fx.nodeA.serverId, Date.now())).resolves.toBeDefined();
  });

  it("refuses an X2Go cookie presented for another user or from another address, and leaves it unspent", async () => {
    const cookie = await x2goCookie("alice", { password: PASSWORD, authid: "" }, { "CF-Connecting-IP": "192.0.2.10" });
    await expectRefused(form({ user: "bob", authid: cookie, task: "listsessions" }, { "CF-Connecting-IP": "192.0.2.10" }), 401, "alice's cookie as bob");
    await expectRefused(form({ user: "alice", authid: cookie, task: "listsessions" }, { "CF-Connecting-IP": "192.0.2.99" }), 401, "alice's cookie from another address");
    expect(await x2goCookie("alice", { authid: cookie }, { "CF-Connecting-IP": "192.0.2.10" })).not.toBe(cookie);
  });
});

describe("authorisation: replays", () => {
  it("refuses a replayed heartbeat, and an older one, with 409 and keeps the last beat", async () => {
    const raw = JSON.stringify(sampleBody({ users: ["replay"] }));
    const seq = Date.now() * 10;
    const first = await beatToken(fx.nodeA, raw, { seq });
    expect((await send({ method: "POST", path: "/v1/agent/heartbeat", headers: json(first), body: raw })).status).toBe(200);
    await expectRefused({ method: "POST", path: "/v1/agent/heartbeat", headers: json(first), body: raw }, 409, "the same heartbeat again");
    const older = await beatToken(fx.nodeA, raw, { seq: seq - 1 });
    await expectRefused({ method: "POST", path: "/v1/agent/heartbeat", headers: json(older), body: raw }, 409, "an older heartbeat");
  });

  it("refuses a relay ticket that has been spent", async () => {
    const ticket = await genuineTicket(fx.nodeB.serverId);
    await redeemTicket(env, ticket, fx.nodeB.serverId, Date.now());
    await expectRefused({ path: `/v1/relay/${fx.nodeB.serverId}?ticket=${ticket}`, headers: upgrade }, 401, "a spent relay ticket");
    await expectRefused({ path: `/v1/relay/${fx.nodeB.serverId}`, headers: { ...upgrade, "Sec-WebSocket-Protocol": `broker-ticket.${ticket}` } }, 401, "a spent relay ticket as a subprotocol");
  });

  it("refuses an enrolment token that has been used", async () => {
    const keys = await newKeyPair();
    const enrol = (hostname: string): Call => ({ method: "POST", path: "/v1/agent/enrol", headers: { "Content-Type": "application/json" }, body: JSON.stringify(enrolBody(fx.enrolmentToken, hostname, keys.publicJwk)) });
    expect((await send(enrol("hx-replay-1"))).status).toBe(201);
    await expectRefused(enrol("hx-replay-2"), 401, "a used enrolment token");
    await expectRefused(enrol("hx-replay-1"), 401, "a used enrolment token for the same host");
  });

  it("refuses an X2Go cookie that has been spent", async () => {
    const first = await x2goCookie("alice", { password: PASSWORD, authid: "" });
    await x2goCookie("alice", { authid: first });
    await expectRefused(form({ user: "alice", authid: first, task: "listsessions" }), 401, "a spent X2Go cookie");
  });
});
