/**
 * The dashboard's security: nothing without sign-in, the cookie's flags and contents, CSRF and
 * Origin checks on every change, sign-out, generic sign-in failures, and no secret in any page.
 */
import { env } from "cloudflare:workers";
import { decodeJwt, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, beat, call, enrolNode, userToken } from "./helpers.ts";

const ORIGIN = "https://broker.test";
const SIGNING_KEY = env.SIGNING_KEY ?? "";
let nextAddress = 1;

interface UiCall {
  cookie?: string;
  form?: Record<string, string>;
  origin?: string | null;
  headers?: Record<string, string>;
}

function ui(path: string, options: UiCall = {}): Promise<Response> {
  const headers: Record<string, string> = { "CF-Connecting-IP": `10.9.0.${nextAddress++}`, ...options.headers };
  if (options.cookie) headers["Cookie"] = options.cookie;
  if (!options.form) return call(path, { headers, redirect: "manual" });
  if (options.origin !== null) headers["Origin"] = options.origin ?? ORIGIN;
  headers["Content-Type"] = "application/x-www-form-urlencoded";
  return call(path, { method: "POST", headers, body: new URLSearchParams(options.form).toString(), redirect: "manual" });
}

/** Signs in with the admin token; returns the cookie pair and the page's CSRF token. */
async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const response = await ui("/admin/login", { form: { method: "token", token: ADMIN_TOKEN } });
  expect(response.status).toBe(303);
  const cookie = (response.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
  const page = await (await ui("/admin/servers", { cookie })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
  expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { cookie, csrf };
}

async function upNode(hostname: string) {
  const node = await enrolNode(hostname);
  expect((await beat(node)).status).toBe(200);
  return node;
}

describe("dashboard: sign-in required", () => {
  it.each(["/admin", "/admin/servers", "/admin/sessions", "/admin/pools", "/admin/pools/default", "/admin/decisions", "/admin/enrolment", "/admin/users", "/admin/profiles"])(
    "GET %s redirects to the sign-in page",
    async (path) => {
      const response = await ui(path);
      expect(response.status).toBe(303);
      expect(response.headers.get("Location")).toBe("/admin/login");
    },
  );

  it("answers 401 JSON for the polled endpoint and for changes", async () => {
    const api = await ui("/admin/api/servers");
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ error: { code: "UNAUTHORIZED" } });
    const node = await upNode("ui-anon");
    const change = await ui(`/admin/servers/default/${node.serverId}/drain`, { form: { confirmed: "yes" }, headers: { Accept: "application/json" } });
    expect(change.status).toBe(401);
    expect(await (await admin(`/v1/admin/pools/default/servers/${node.serverId}`)).json()).toMatchObject({ draining: false });
  });

  it("refuses a forged, tampered or foreign-audience cookie", async () => {
    const { cookie } = await signIn();
    const [name, token] = cookie.split("=") as [string, string];
    const [header, payload, signature] = token.split(".");
    const tampered = `${name}=${header}.${btoa(JSON.stringify({ ...decodeJwt(token), sub: "mallory" })).replace(/=+$/, "")}.${signature}`;
    expect((await ui("/admin/servers", { cookie: tampered })).status).toBe(303);
    expect((await ui("/admin/servers", { cookie: `${name}=${payload}` })).status).toBe(303);
    const claims = decodeJwt(token);
    const forge = (iat: number, exp: number) =>
      new SignJWT({ ...claims, iat, exp }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(SIGNING_KEY));
    const now = Math.floor(Date.now() / 1000);
    expect((await ui("/admin/servers", { cookie: `${name}=${await forge(now, now + 60)}` })).status).toBe(200);
    expect((await ui("/admin/servers", { cookie: `${name}=${await forge(now + 3600, now + 7200)}` })).status).toBe(303);
    expect((await ui("/admin/servers", { cookie: `${name}=${await forge(now - 9 * 3600, now + 60)}` })).status).toBe(303);
    const userSession = await userToken("ui-cookie-admin", []);
    await admin("/v1/admin/users/ui-cookie-admin", "PATCH", { isAdmin: true });
    expect((await ui("/admin/servers", { cookie: `${name}=${userSession}` })).status).toBe(303);
  });
});

describe("dashboard: sign-in", () => {
  it("sets an HttpOnly, Secure, SameSite=Strict cookie for /admin that holds no secret", async () => {
    const response = await ui("/admin/login", { form: { method: "token", token: ADMIN_TOKEN } });
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe("/admin/servers");
    const setCookie = response.headers.get("Set-Cookie") ?? "";
    expect(setCookie).toMatch(/^broker_admin=[\w-]+\.[\w-]+\.[\w-]+;/);
    for (const flag of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin", "Max-Age=28800"]) expect(setCookie).toContain(flag);
    const claims = decodeJwt(/^broker_admin=([^;]+)/.exec(setCookie)?.[1] ?? "");
    expect(claims).toMatchObject({ aud: "broker:admin-ui", sub: "admin", src: "admin-token" });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(8 * 3600);
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    expect(setCookie).not.toContain(SIGNING_KEY);
  });

  it("answers a wrong admin token with the same generic failure and no cookie", async () => {
    for (const token of ["wrong-token-wrong-token", `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1)]) {
      const response = await ui("/admin/login", { form: { method: "token", token } });
      expect(response.status).toBe(401);
      expect(response.headers.get("Set-Cookie")).toBeNull();
      const page = await response.text();
      expect(page).toContain("Sign-in failed.");
      expect(page).not.toContain(token);
    }
    const empty = await ui("/admin/login", { form: { method: "token", token: "" } });
    expect(empty.status).toBe(401);
  });

  it("throttles admin-token guesses per client address, then refuses even the right token (429)", async () => {
    const headers = { "CF-Connecting-IP": "10.99.0.1" };
    for (let attempt = 0; attempt < 20; attempt++) {
      expect((await ui("/admin/login", { form: { method: "token", token: `guess-${attempt}-guess-guess` }, headers })).status).toBe(401);
    }
    const limited = await ui("/admin/login", { form: { method: "token", token: ADMIN_TOKEN }, headers });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(limited.headers.get("Set-Cookie")).toBeNull();
    expect((await ui("/admin/login", { form: { method: "token", token: ADMIN_TOKEN } })).status).toBe(303);
  });

  it("signs in a broker admin account, refuses a non-admin, and ends the session when the admin is disabled", async () => {
    expect((await admin("/v1/admin/users", "POST", { login: "ui-boss", password: "boss password 1", isAdmin: true })).status).toBe(201);
    expect((await admin("/v1/admin/users", "POST", { login: "ui-pleb", password: "pleb password 1" })).status).toBe(201);
    const refused = await ui("/admin/login", { form: { method: "password", login: "ui-pleb", password: "pleb password 1" } });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain("Sign-in failed.");
    const accepted = await ui("/admin/login", { form: { method: "password", login: "ui-boss", password: "boss password 1" } });
    expect(accepted.status).toBe(303);
    const cookie = (accepted.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
    expect((await ui("/admin/servers", { cookie })).status).toBe(200);
    expect((await admin("/v1/admin/users/ui-boss", "PATCH", { disabled: true })).status).toBe(200);
    expect((await ui("/admin/servers", { cookie })).status).toBe(303);
  });

  it("refuses a sign-in posted from another origin or without one", async () => {
    for (const origin of ["https://evil.example", null]) {
      const response = await ui("/admin/login", { form: { method: "token", token: ADMIN_TOKEN }, origin });
      expect(response.status).toBe(403);
      expect(response.headers.get("Set-Cookie")).toBeNull();
    }
  });

  it("signs out: the cookie is cleared with the same path and flags", async () => {
    const { cookie, csrf } = await signIn();
    expect((await ui("/admin/logout", { cookie, form: {} })).status).toBe(403);
    const response = await ui("/admin/logout", { cookie, form: { _csrf: csrf } });
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe("/admin/login?notice=signed-out");
    const cleared = response.headers.get("Set-Cookie") ?? "";
    expect(cleared).toMatch(/^broker_admin=;/);
    for (const flag of ["Max-Age=0", "Path=/admin", "HttpOnly", "Secure", "SameSite=Strict"]) expect(cleared).toContain(flag);
  });

  it("signs out for good: a copy of the signed-out cookie is refused, other sessions go on", async () => {
    const signedOut = await signIn();
    const other = await signIn();
    expect((await ui("/admin/logout", { cookie: signedOut.cookie, form: { _csrf: signedOut.csrf } })).status).toBe(303);
    const page = await ui("/admin/servers", { cookie: signedOut.cookie });
    expect(page.status).toBe(303);
    expect(page.headers.get("Location")).toBe("/admin/login");
    const polled = await ui("/admin/api/servers", { cookie: signedOut.cookie });
    expect(polled.status).toBe(401);
    expect((await ui("/admin/logout", { cookie: signedOut.cookie, form: { _csrf: signedOut.csrf } })).status).toBe(401);
    expect((await ui("/admin/servers", { cookie: other.cookie })).status).toBe(200);
  });

  it("keeps a sign-out only until the session would have expired anyway", async () => {
    const { cookie, csrf } = await signIn();
    const sessionId = decodeJwt(decodeURIComponent(cookie.split("=")[1] ?? "")).jti;
    expect((await ui("/admin/logout", { cookie, form: { _csrf: csrf } })).status).toBe(303);
    const rows = () => env.DB.prepare("SELECT session_id, expires_at FROM revoked_ui_sessions WHERE session_id = ?").bind(sessionId).all<{ expires_at: number }>();
    const [row] = (await rows()).results;
    expect(row?.expires_at).toBeGreaterThan(Date.now() + 7 * 60 * 60 * 1000);
    await env.DB.prepare("UPDATE revoked_ui_sessions SET expires_at = ? WHERE session_id = ?").bind(Date.now() - 1, sessionId).run();
    const next = await signIn();
    expect((await ui("/admin/logout", { cookie: next.cookie, form: { _csrf: next.csrf } })).status).toBe(303);
    expect((await rows()).results).toEqual([]);
  });
});

describe("dashboard: CSRF and Origin on every change", () => {
  it("refuses a change without the CSRF token, with a wrong one, or cross-site; accepts the right one", async () => {
    const { cookie, csrf } = await signIn();
    const node = await upNode("ui-csrf");
    const path = `/admin/servers/default/${node.serverId}/drain`;
    const attempts: UiCall[] = [
      { cookie, form: { confirmed: "yes" } },
      { cookie, form: { confirmed: "yes", _csrf: "A".repeat(43) } },
      { cookie, form: { confirmed: "yes", _csrf: csrf }, origin: "https://evil.example" },
      { cookie, form: { confirmed: "yes", _csrf: csrf }, origin: null },
      { cookie, form: { confirmed: "yes", _csrf: csrf }, headers: { "Sec-Fetch-Site": "cross-site" } },
    ];
    for (const attempt of attempts) expect((await ui(path, attempt)).status).toBe(403);
    expect(await (await admin(`/v1/admin/pools/default/servers/${node.serverId}`)).json()).toMatchObject({ draining: false });
    const accepted = await ui(path, { cookie, form: { confirmed: "yes", _csrf: csrf }, headers: { "Sec-Fetch-Site": "same-origin" } });
    expect(accepted.status).toBe(303);
    expect(await (await admin(`/v1/admin/pools/default/servers/${node.serverId}`)).json()).toMatchObject({ draining: true, status: "draining" });
  });

  it("takes the token as the X-CSRF-Token header too, and another session's token is refused", async () => {
    const first = await signIn();
    const second = await signIn();
    expect(first.csrf).not.toBe(second.csrf);
    const form = { name: "ui-csrf-pool", intervalSeconds: "5" };
    expect((await ui("/admin/pools", { cookie: first.cookie, form: { ...form, _csrf: second.csrf } })).status).toBe(403);
    const accepted = await ui("/admin/pools", { cookie: first.cookie, form, headers: { "X-CSRF-Token": first.csrf } });
    expect(accepted.status).toBe(303);
  });

  it.each([
    ["/admin/pools", { name: "ui-forged" }],
    ["/admin/pools/default/policy", { policy: "" }],
    ["/admin/enrolment", { pool: "default", ttlSeconds: "3600" }],
    ["/admin/users", { login: "ui-forged", password: "forged password" }],
    ["/admin/users/ui-forged/delete", { confirmed: "yes" }],
    ["/admin/profiles", { profile: "{}" }],
    ["/admin/profiles/nope/delete", { confirmed: "yes" }],
  ])("POST %s without the token is 403", async (path, form) => {
    const { cookie } = await signIn();
    expect((await ui(path, { cookie, form })).status).toBe(403);
  });
});

describe("dashboard: no secret in any page or answer", () => {
  it("never renders the admin token, the signing key or a password hash", async () => {
    const { cookie, csrf } = await signIn();
    const node = await upNode("ui-secrets");
    expect((await admin("/v1/admin/users", "POST", { login: "ui-secret-user", password: "secret user password" })).status).toBe(201);
    const pages: Array<[string, Response]> = [];
    for (const path of ["/admin/login", "/admin/servers", "/admin/api/servers", "/admin/sessions", "/admin/pools", "/admin/pools/default", "/admin/decisions", "/admin/enrolment", "/admin/users", "/admin/profiles", "/admin/nope", "/admin/assets/dashboard.js", "/admin/assets/dashboard.css"]) {
      pages.push([path, await ui(path, { cookie })]);
    }
    const changes: Array<[string, Record<string, string>]> = [
      [`/admin/servers/default/${node.serverId}/remove`, {}],
      ["/admin/users/ui-secret-user/delete", {}],
      ["/admin/pools/default/policy", { policy: '{"steps":[{"script":"function ( {","name":"broken"}]}' }],
      ["/admin/pools/default/dry-run", { policy: "", login: "alice", data: '{"gpu":true}' }],
      ["/admin/users", { login: "ui-secret-user", password: "short" }],
      ["/admin/enrolment", { pool: "default", ttlSeconds: "3600" }],
      ["/admin/login", { method: "token", token: "wrong-token-wrong-token" }],
    ];
    for (const [path, form] of changes) pages.push([path, await ui(path, { cookie, form: { ...form, _csrf: csrf } })]);
    for (const [path, response] of pages) {
      const text = await response.text();
      if (response.status < 300 || response.status >= 400) expect(text.length, path).toBeGreaterThan(200);
      expect(text).not.toContain(ADMIN_TOKEN);
      expect(text).not.toContain(SIGNING_KEY);
      expect(text).not.toMatch(/pbkdf2-sha256|passwordHash|password_hash/);
      expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    }
  });
});
