/**
 * The portal and the wait line (issue 16 item 3): a start from the portal that finds every server
 * full answers 202 with the place, and the desktop page's long-poll (`GET /portal/api/queue/:id`,
 * portal cookie) answers with the relay once a server frees; anyone else's place is 404. The
 * page's "Leave the line" (`POST /portal/api/queue/:id/leave`) gives up the caller's own place
 * only, and like every portal change needs the CSRF token and this Worker's Origin.
 */
import { describe, expect, it } from "vitest";
import { errorEnvelopeSchema } from "../../src/protocol.ts";
import { admin, asUser, beat, call, enrolNode, sampleBody, userToken } from "./helpers.ts";

type Who = { cookie: string; csrf: string };

async function portalSession(login: string): Promise<{ cookie: string; csrf: string }> {
  await userToken(login);
  const body = new URLSearchParams({ method: "password", login, password: "correct-horse-battery" }).toString();
  const signedIn = await call("/portal/login", { method: "POST", headers: { Origin: "https://broker.test", "Content-Type": "application/x-www-form-urlencoded" }, body, redirect: "manual" });
  const cookie = (signedIn.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
  const page = await (await call("/", { headers: { Cookie: cookie } })).text();
  return { cookie, csrf: /name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? "" };
}

const portalCall = (who: Who, path: string, json?: unknown) =>
  call(path, {
    method: json === undefined ? "GET" : "POST",
    headers: { Cookie: who.cookie, Accept: "application/json", ...(json === undefined ? {} : { Origin: "https://broker.test", "Content-Type": "application/json", "X-CSRF-Token": who.csrf }) },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });

/** Leaves `queueId` as `who` from the page; `headers` override the page's own (Origin, CSRF token), an empty one is left out. */
function leave(who: Who, queueId: string, headers: Record<string, string> = {}): Promise<Response> {
  const all = { Cookie: who.cookie, Accept: "application/json", Origin: "https://broker.test", "Content-Type": "application/json", "X-CSRF-Token": who.csrf, ...headers };
  return call(`/portal/api/queue/${queueId}/leave`, { method: "POST", headers: Object.entries(all).filter(([, value]) => value !== ""), body: "{}" });
}

/** A pool `pool` whose one node is full (its holder's session), and a queueing profile `<pool>-desk` on it. */
async function fullPool(pool: string): Promise<string> {
  expect((await admin("/v1/admin/pools", "POST", { name: pool, intervalMs: 300_000 })).status).toBe(201);
  const node = await enrolNode(`${pool}-1`, pool);
  const session = { id: `${pool}-held`, user: `${pool}-holder`, state: "running" as const, startedAt: 1 };
  expect((await beat(node, sampleBody({ sessions: [], users: [], staticData: { maxSessions: 1 } }))).status).toBe(200);
  const queue = { enabled: true, maxLength: 5, maxWaitSeconds: 600 };
  expect((await admin("/v1/admin/profiles", "POST", { id: `${pool}-desk`, name: "Desk", pool, mode: "relay", queue })).status).toBe(201);
  expect((await asUser(await userToken(`${pool}-holder`), "/v1/sessions", "POST", { profileId: `${pool}-desk` })).status).toBe(201);
  expect((await beat(node, sampleBody({ sessions: [session], users: [session.user], staticData: { maxSessions: 1 } }))).status).toBe(200);
  return `${pool}-desk`;
}

/** `who` starts `profileId` from the portal and waits: their place. */
async function queueUp(who: Who, profileId: string, position: number): Promise<{ id: string; position: number }> {
  const started = await portalCall(who, "/portal/api/sessions", { profileId });
  expect(started.status).toBe(202);
  const { queued } = (await started.json()) as { queued: { id: string; position: number } };
  expect(queued.position).toBe(position);
  return queued;
}

async function expectRefused(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = errorEnvelopeSchema.parse(await response.json());
  expect(body.error.code).toBe(code);
}

describe("portal: wait line", () => {
  it("answers a full pool's start with the place, and the page's long-poll with the relay once a server frees", async () => {
    expect((await admin("/v1/admin/pools", "POST", { name: "pq", intervalMs: 300_000 })).status).toBe(201);
    const node = await enrolNode("pq-1", "pq");
    const report = (users: string[]) => beat(node, sampleBody({ sessions: users.map((user) => ({ id: `pq-${user}`, user, state: "running" as const, startedAt: 1 })), users, staticData: { maxSessions: 1 } }));
    expect((await report([])).status).toBe(200);
    const queue = { enabled: true, maxLength: 5, maxWaitSeconds: 600 };
    expect((await admin("/v1/admin/profiles", "POST", { id: "pq-desk", name: "Desk", pool: "pq", mode: "relay", queue })).status).toBe(201);
    expect((await asUser(await userToken("pq-holder"), "/v1/sessions", "POST", { profileId: "pq-desk" })).status).toBe(201);
    expect((await report(["pq-holder"])).status).toBe(200);
    const nina = await portalSession("pq-nina");
    const started = await portalCall(nina, "/portal/api/sessions", { profileId: "pq-desk" });
    expect(started.status).toBe(202);
    const { queued } = (await started.json()) as { queued: { id: string; position: number; message: string } };
    expect(queued).toMatchObject({ position: 1, message: "all servers are busy; you are number 1 in line" });
    const other = await portalSession("pq-oscar");
    expect((await portalCall(other, `/portal/api/queue/${queued.id}`)).status).toBe(404);
    const waiting = portalCall(nina, `/portal/api/queue/${queued.id}?wait=20&position=1`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await report([])).status).toBe(200);
    const placed = await waiting;
    expect(placed.status).toBe(200);
    expect(await placed.json()).toMatchObject({ state: "running", serverId: node.serverId, relay: { ticket: expect.any(String) } });
  });

  it("lets a waiting user leave their own place from the page: 204, the place is gone, the next in line moves up", async () => {
    const profileId = await fullPool("pl");
    const nina = await portalSession("pl-nina");
    const pat = await portalSession("pl-pat");
    const ninaPlace = await queueUp(nina, profileId, 1);
    const patPlace = await queueUp(pat, profileId, 2);
    const left = await leave(nina, ninaPlace.id);
    expect(left.status).toBe(204);
    expect(await left.text()).toBe("");
    await expectRefused(await portalCall(nina, `/portal/api/queue/${ninaPlace.id}`), 404, "NOT_FOUND");
    const moved = await portalCall(pat, `/portal/api/queue/${patPlace.id}`);
    expect(moved.status).toBe(200);
    expect(await moved.json()).toMatchObject({ state: "queued", queued: { id: patPlace.id, position: 1 } });
    // Leaving twice: the place is gone, like one that never was.
    await expectRefused(await leave(nina, ninaPlace.id), 404, "NOT_FOUND");
  });

  it("answers leaving anyone else's place 404 like a missing one, and a malformed id 400, leaving the place as it was", async () => {
    const profileId = await fullPool("pm");
    const nina = await portalSession("pm-nina");
    const oscar = await portalSession("pm-oscar");
    const place = await queueUp(nina, profileId, 1);
    const theirs = await leave(oscar, place.id);
    const missing = await leave(oscar, "pm.wq_AAAAAAAAAAAAAAAAAAAA");
    await expectRefused(theirs, 404, "NOT_FOUND");
    await expectRefused(missing, 404, "NOT_FOUND");
    for (const bad of ["not-a-place", "pm.wq_short", "PM.wq_AAAAAAAAAAAAAAAAAAAA", encodeURIComponent("pm.wq_AAAAAAAAAAAAAAAAAAA!")]) {
      await expectRefused(await leave(nina, bad), 400, "BAD_REQUEST");
    }
    expect(await (await portalCall(nina, `/portal/api/queue/${place.id}`)).json()).toMatchObject({ state: "queued", queued: { id: place.id, position: 1 } });
  });

  it("refuses leaving without the CSRF token, with a wrong one, from another origin, cross-site or signed out, leaving the place as it was", async () => {
    const profileId = await fullPool("pn");
    const nina = await portalSession("pn-nina");
    const place = await queueUp(nina, profileId, 1);
    await expectRefused(await leave(nina, place.id, { "X-CSRF-Token": "" }), 403, "FORBIDDEN");
    await expectRefused(await leave(nina, place.id, { "X-CSRF-Token": "W".repeat(43) }), 403, "FORBIDDEN");
    await expectRefused(await leave(nina, place.id, { Origin: "https://evil.example" }), 403, "FORBIDDEN");
    await expectRefused(await leave(nina, place.id, { Origin: "" }), 403, "FORBIDDEN");
    await expectRefused(await leave(nina, place.id, { "Sec-Fetch-Site": "cross-site" }), 403, "FORBIDDEN");
    await expectRefused(await leave(nina, place.id, { Cookie: "" }), 401, "UNAUTHORIZED");
    expect(await (await portalCall(nina, `/portal/api/queue/${place.id}`)).json()).toMatchObject({ state: "queued", queued: { id: place.id, position: 1 } });
  });
});
