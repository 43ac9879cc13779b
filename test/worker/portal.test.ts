/**
 * The user's portal at `/`: sign-in, the home page (my profiles and sessions), starting and
 * resuming through the pages' JSON calls with a fresh ticket each time, the desktop page, and its
 * security: cookie flags, nothing without sign-in, CSRF and Origin on every change, sign-out
 * revokes, a changed password or a disabled user ends the session, another kind of token is not
 * a portal session, another user's sessions and hidden profiles are 404.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY } from "../../src/ui/guard.ts";
import { admin, beat, call, enrolNode, sampleBody, type TestNode, userToken } from "./helpers.ts";

const ORIGIN = "https://broker.test";
const PASSWORD = "correct-horse-battery";
let nextAddress = 1;
let node: TestNode;

interface Signed {
  cookie: string;
  csrf: string;
}

function send(path: string, options: { cookie?: string; form?: Record<string, string>; json?: unknown; csrf?: string; origin?: string | null; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { "CF-Connecting-IP": `10.15.0.${nextAddress++ % 250}`, ...options.headers };
  if (options.cookie) headers["Cookie"] = options.cookie;
  if (options.csrf) headers["X-CSRF-Token"] = options.csrf;
  if (options.form === undefined && options.json === undefined) return call(path, { headers, redirect: "manual" });
  if (options.origin !== null) headers["Origin"] = options.origin ?? ORIGIN;
  const body = options.form ? new URLSearchParams(options.form).toString() : JSON.stringify(options.json);
  headers["Content-Type"] = options.form ? "application/x-www-form-urlencoded" : "application/json";
  if (options.json !== undefined) headers["Accept"] = "application/json";
  return call(path, { method: "POST", headers, body, redirect: "manual" });
}

async function signIn(login: string, password = PASSWORD): Promise<Signed> {
  const response = await send("/portal/login", { form: { method: "password", login, password } });
  expect(response.status, await response.clone().text()).toBe(303);
  const cookie = (response.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
  const page = await (await send("/", { cookie })).text();
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? "";
  expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { cookie, csrf };
}

interface Answer {
  sessionId: string;
  serverId: string;
  resumed: boolean;
  relay: { url: string; ticket: string; protocol: string; connectUrl: string };
}

beforeAll(async () => {
  await admin("/v1/admin/pools", "POST", { name: "portal" });
  node = await enrolNode("portal-1", "portal");
  await beat(node, sampleBody({ sessions: [{ id: "pt-carol-1", user: "carol", state: "suspended", startedAt: Date.now() - 600_000 }], users: ["carol"], staticData: {} }));
  const profile = (id: string, extra: Record<string, unknown>) => admin("/v1/admin/profiles", "POST", { id, name: `Desk ${id}`, pool: "portal", mode: "relay", maxSessionsPerUser: 100, ...extra });
  await profile("pt-desk", {});
  await profile("pt-staff", { acl: { groups: { allow: ["staff"], deny: ["ALL"], order: "allow-deny" } } });
  await profile("pt-x2go", { mode: "redirect" });
  await userToken("carol", ["staff"]);
  await userToken("dave");
  await admin("/v1/admin/users", "POST", { login: "erin", password: PASSWORD, isAdmin: true });
});

describe("portal: sign-in", () => {
  it("shows the sign-in form at / without a session, under the dashboard's strict CSP", async () => {
    const response = await send("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Security-Policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
    const page = await response.text();
    expect(page).toContain('action="/portal/login"');
    expect(page).toMatch(/<label for="password">/);
    expect(page).not.toContain('href="/admin"');
  });

  it("signs a user in with an HttpOnly, Secure, SameSite=Strict cookie on /", async () => {
    const response = await send("/portal/login", { form: { method: "password", login: "dave", password: PASSWORD } });
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe("/");
    const flags = (response.headers.get("Set-Cookie") ?? "").split(";").map((part) => part.trim());
    expect(flags[0]).toMatch(/^broker_portal=ey/);
    expect(flags).toEqual(expect.arrayContaining(["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=43200"]));
  });

  it("answers a wrong password with the generic failure, 401, and no cookie", async () => {
    const response = await send("/portal/login", { form: { method: "password", login: "dave", password: "wrong-password-1" } });
    expect(response.status).toBe(401);
    expect(response.headers.get("Set-Cookie")).toBeNull();
    expect(await response.text()).toContain("Sign-in failed");
    const unknown = await send("/portal/login", { form: { method: "password", login: "nobody-here", password: PASSWORD } });
    expect(unknown.status).toBe(401);
    expect((await send("/portal/login", { form: { method: "access" } })).status).toBe(401);
  });

  it("refuses a sign-in from another origin", async () => {
    const response = await send("/portal/login", { form: { method: "password", login: "dave", password: PASSWORD }, origin: "https://evil.example" });
    expect(response.status).toBe(403);
    expect(response.headers.get("Set-Cookie")).toBeNull();
  });
});

describe("portal: the home page", () => {
  it("lists my profiles (ACLs applied), my sessions with state, server and age, and no admin link for users", async () => {
    const carol = await signIn("carol");
    const page = await (await send("/", { cookie: carol.cookie })).text();
    expect(page).toContain("Desk pt-staff");
    expect(page).toContain("opens in an X2Go client");
    expect(page).toContain('href="/portal/desktop?profile=pt-desk"');
    expect(page).toMatch(/data-session-id="pt-carol-1" data-state="suspended"/);
    expect(page).toContain("portal-1");
    expect(page).toContain("10 min ago");
    expect(page).toContain('href="/portal/desktop?session=pt-carol-1&amp;profile=pt-desk"');
    expect(page).not.toContain('href="/admin"');
    const dave = await (await send("/", { cookie: (await signIn("dave")).cookie })).text();
    expect(dave).not.toContain("pt-staff");
    expect(dave).not.toContain("pt-carol-1");
  });

  it("shows admins a link to the dashboard", async () => {
    const page = await (await send("/", { cookie: (await signIn("erin")).cookie })).text();
    expect(page).toContain('<a href="/admin">Admin dashboard</a>');
  });

  it("answers the live state as JSON", async () => {
    const carol = await signIn("carol");
    const state = (await (await send("/portal/api/state", { cookie: carol.cookie })).json()) as { profiles: Array<{ id: string; inBrowser: boolean }>; sessions: Array<Record<string, unknown>> };
    expect(state.profiles.map((profile) => profile.id)).toEqual(expect.arrayContaining(["pt-desk", "pt-staff", "pt-x2go"]));
    expect(state.profiles.find((profile) => profile.id === "pt-x2go")?.inBrowser).toBe(false);
    expect(state.sessions).toEqual([expect.objectContaining({ id: "pt-carol-1", state: "suspended", hostname: "portal-1", serverUp: true, profileId: "pt-desk", message: null })]);
  });
});

describe("portal: desktops", () => {
  it("starts a session and answers how to reach it through the relay", async () => {
    const dave = await signIn("dave");
    const response = await send("/portal/api/sessions", { cookie: dave.cookie, csrf: dave.csrf, json: { profileId: "pt-desk" } });
    expect(response.status).toBe(201);
    const answer = (await response.json()) as Answer;
    expect(answer.serverId).toBe(node.serverId);
    expect(answer.relay.url).toBe(`wss://broker.test/v1/relay/${node.serverId}`);
    expect(answer.relay.protocol).toBe(`broker-ticket.${answer.relay.ticket}`);
  });

  it("gives a fresh single-use ticket for every connect to one of my sessions", async () => {
    const carol = await signIn("carol");
    const connect = () => send("/portal/api/sessions/pt-carol-1/connect", { cookie: carol.cookie, csrf: carol.csrf, json: { profileId: "pt-desk" } });
    const first = (await (await connect()).json()) as Answer;
    const second = (await (await connect()).json()) as Answer;
    expect(first).toMatchObject({ sessionId: "pt-carol-1", resumed: true });
    expect(second.relay.ticket).not.toBe(first.relay.ticket);
  });

  it("answers another user's session and a hidden or X2Go-only profile like missing ones (404)", async () => {
    const dave = await signIn("dave");
    const other = await send("/portal/api/sessions/pt-carol-1/connect", { cookie: dave.cookie, csrf: dave.csrf, json: { profileId: "pt-desk" } });
    expect(other.status).toBe(404);
    for (const profileId of ["pt-staff", "pt-x2go", "pt-none"]) {
      const start = await send("/portal/api/sessions", { cookie: dave.cookie, csrf: dave.csrf, json: { profileId } });
      expect(start.status, profileId).toBe(404);
      expect(await start.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
      expect((await send(`/portal/desktop?profile=${profileId}`, { cookie: dave.cookie })).status).toBe(404);
    }
  });

  it("serves the desktop page for a profile, with the noVNC script and the session to resume", async () => {
    const carol = await signIn("carol");
    const response = await send("/portal/desktop?session=pt-carol-1&profile=pt-desk", { cookie: carol.cookie });
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('<script type="module" src="/portal/assets/desktop.js">');
    expect(page).toMatch(/data-profile="pt-desk"[^>]*data-session="pt-carol-1"/);
    for (const control of ["fullscreen", "scale", "ctrl-alt-del", "paste"]) expect(page).toContain(`data-action="${control}"`);
  });

  it("serves noVNC's bundle and the pages' assets as static assets", async () => {
    const desktop = await env.ASSETS.fetch("https://broker.test/portal/assets/desktop.js");
    expect(desktop.status).toBe(200);
    expect(await desktop.text()).toContain("RFB");
    for (const path of ["/portal/assets/portal.js", "/portal/assets/portal.css", "/portal/assets/NOTICE-novnc.txt"]) expect((await env.ASSETS.fetch(`https://broker.test${path}`)).status, path).toBe(200);
  });

  it("validates what the pages send: 400 or 415 in the envelope, never 500", async () => {
    const dave = await signIn("dave");
    const bad = [
      await send("/portal/api/sessions", { cookie: dave.cookie, csrf: dave.csrf, json: { profileId: "../x" } }),
      await send("/portal/api/sessions", { cookie: dave.cookie, csrf: dave.csrf, json: { profileId: "pt-desk", extra: 1 } }),
      await send(`/portal/api/sessions/${"s".repeat(300)}/connect`, { cookie: dave.cookie, csrf: dave.csrf, json: { profileId: "pt-desk" } }),
    ];
    for (const response of bad) expect(await response.json()).toMatchObject({ error: { code: "BAD_REQUEST" } });
    const form = await send("/portal/api/sessions", { cookie: dave.cookie, csrf: dave.csrf, form: { profileId: "pt-desk" }, headers: { Accept: "application/json" } });
    expect(form.status).toBe(415);
    expect((await send("/portal/desktop?profile=", { cookie: dave.cookie })).status).toBe(400);
  });
});

describe("portal: terminate", () => {
  it("answers another user's or a missing session 404, and one its node cannot end 409, on the page and in JSON", async () => {
    const dave = await signIn("dave");
    const other = await send("/portal/sessions/pt-carol-1/terminate", { cookie: dave.cookie, form: { _csrf: dave.csrf } });
    expect(other.status).toBe(404);
    expect(await other.text()).toContain("Not found");
    const carol = await signIn("carol");
    const own = await send("/portal/sessions/pt-carol-1/terminate", { cookie: carol.cookie, form: { _csrf: carol.csrf }, headers: { Accept: "application/json" } });
    expect(own.status, await own.clone().text()).toBe(409);
    expect(await own.json()).toMatchObject({ error: { code: expect.stringMatching(/CONFLICT|NODE_NOT_CONNECTED/) } });
  });
});

describe("portal: security", () => {
  it("redirects pages to the sign-in and answers 401 to the pages' calls without a session", async () => {
    const page = await send("/portal/desktop?profile=pt-desk");
    expect(page.status).toBe(303);
    expect(page.headers.get("Location")).toBe("/");
    const state = await send("/portal/api/state");
    expect(state.status).toBe(401);
    expect(await state.json()).toMatchObject({ error: { code: "UNAUTHORIZED" } });
    expect((await send("/portal/api/sessions", { json: { profileId: "pt-desk" } })).status).toBe(401);
  });

  it("refuses every change without the CSRF token, with a wrong one, or from another site (403)", async () => {
    const dave = await signIn("dave");
    const start = (extra: Parameters<typeof send>[1]) => send("/portal/api/sessions", { cookie: dave.cookie, json: { profileId: "pt-desk" }, ...extra });
    expect((await start({})).status).toBe(403);
    expect((await start({ csrf: "W".repeat(43) })).status).toBe(403);
    expect((await start({ csrf: dave.csrf, origin: "https://evil.example" })).status).toBe(403);
    expect((await start({ csrf: dave.csrf, origin: null })).status).toBe(403);
    expect((await start({ csrf: dave.csrf, headers: { "Sec-Fetch-Site": "cross-site" } })).status).toBe(403);
    expect((await send("/portal/logout", { cookie: dave.cookie, form: {} })).status).toBe(403);
  });

  it("signs out: the cookie is cleared and a copy of it stops working", async () => {
    const dave = await signIn("dave");
    const out = await send("/portal/logout", { cookie: dave.cookie, form: { _csrf: dave.csrf } });
    expect(out.status).toBe(303);
    expect(out.headers.get("Location")).toBe("/?notice=signed-out");
    expect(out.headers.get("Set-Cookie")).toMatch(/^broker_portal=;.*Max-Age=0/);
    expect((await send("/portal/api/state", { cookie: dave.cookie })).status).toBe(401);
    expect(await (await send("/?notice=signed-out", { cookie: dave.cookie })).text()).toContain("You are signed out.");
  });

  it("ends the session when the password changes or the user is disabled", async () => {
    await userToken("frank");
    const first = await signIn("frank");
    await admin("/v1/admin/users/frank", "PATCH", { password: "another-password-2" });
    expect((await send("/portal/api/state", { cookie: first.cookie })).status).toBe(401);
    const second = await signIn("frank", "another-password-2");
    await admin("/v1/admin/users/frank", "PATCH", { disabled: true });
    expect((await send("/portal/api/state", { cookie: second.cookie })).status).toBe(401);
  });

  it("takes no other token as a portal session, and its own cookie opens nothing else", async () => {
    const token = await userToken("grace");
    const dashboard = (await call("/admin/login", { method: "POST", headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" }, body: "method=password&login=erin&password=correct-horse-battery", redirect: "manual" })).headers.get("Set-Cookie") ?? "";
    const adminCookie = dashboard.split(";")[0]?.split("=")[1] ?? "";
    expect(adminCookie).toMatch(/^ey/);
    for (const value of [token, adminCookie, "not.a.token"]) expect((await send("/portal/api/state", { cookie: `broker_portal=${value}` })).status).toBe(401);
    const erin = await signIn("erin");
    const portalToken = erin.cookie.split("=")[1] ?? "";
    expect((await send("/admin/servers", { cookie: `broker_admin=${portalToken}` })).status).toBe(303);
    expect((await call("/v1/sessions", { headers: { Authorization: `Bearer ${portalToken}` } })).status).toBe(401);
  });
});
