/**
 * The portal and the wait line (issue 16 item 3): a start from the portal that finds every server
 * full answers 202 with the place, and the desktop page's long-poll (`GET /portal/api/queue/:id`,
 * portal cookie) answers with the relay once a server frees; anyone else's place is 404.
 */
import { describe, expect, it } from "vitest";
import { admin, asUser, beat, call, enrolNode, sampleBody, userToken } from "./helpers.ts";

async function portalSession(login: string): Promise<{ cookie: string; csrf: string }> {
  await userToken(login);
  const body = new URLSearchParams({ method: "password", login, password: "correct-horse-battery" }).toString();
  const signedIn = await call("/portal/login", { method: "POST", headers: { Origin: "https://broker.test", "Content-Type": "application/x-www-form-urlencoded" }, body, redirect: "manual" });
  const cookie = (signedIn.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
  const page = await (await call("/", { headers: { Cookie: cookie } })).text();
  return { cookie, csrf: /name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? "" };
}

const portalCall = (who: { cookie: string; csrf: string }, path: string, json?: unknown) =>
  call(path, {
    method: json === undefined ? "GET" : "POST",
    headers: { Cookie: who.cookie, Accept: "application/json", ...(json === undefined ? {} : { Origin: "https://broker.test", "Content-Type": "application/json", "X-CSRF-Token": who.csrf }) },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });

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
});
