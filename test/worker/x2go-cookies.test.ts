/**
 * The AUTHID cookie chain of the X2Go broker protocol: a password login hands out a cookie, the
 * cookie alone authenticates the next request (the password is then ignored), once, for the
 * same user from the same address, until the chain's deadline; D1 holds only hashes.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/core/crypto.ts";
import { authenticateX2go } from "../../src/x2go/auth.ts";
import { AUTH_TIMEOUT_MS } from "../../src/x2go/cookies.ts";
import type { X2goParams } from "../../src/x2go/form.ts";
import { admin, call } from "./helpers.ts";

const PASSWORD = "sweet-sweet-1";

function post(fields: Record<string, string>, headers: Record<string, string> = {}, path = "/plain/"): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The cookie of a plain answer, or the status when there is none. */
async function cookieOf(response: Response): Promise<string> {
  const body = await response.text();
  const match = /^AUTHID:([^\n]+)\nAccess granted\n/.exec(body);
  if (response.status !== 200 || !match?.[1]) throw new Error(`no cookie: ${response.status} ${body}`);
  return match[1];
}

async function passwordLogin(user: string, headers: Record<string, string> = {}): Promise<string> {
  return cookieOf(await post({ user, password: PASSWORD, authid: "" }, headers));
}

async function createUser(login: string): Promise<void> {
  const response = await admin("/v1/admin/users", "POST", { login, password: PASSWORD });
  if (response.status !== 201) throw new Error(`user ${login}: ${response.status} ${await response.text()}`);
}

function params(fields: Partial<X2goParams>): X2goParams {
  return { user: "", password: "", authid: "", task: "", sid: "", profileId: "", ...fields };
}

beforeAll(async () => {
  for (const login of ["test", "jacques", "changer", "leaver"]) await createUser(login);
});

describe("the AUTHID chain", () => {
  it("hands out a new cookie per answer; the cookie alone authenticates the next request, once", async () => {
    const first = await passwordLogin("test");
    const second = await cookieOf(await post({ user: "test", authid: first, task: "listsessions" }));
    expect(second).not.toBe(first);
    const reused = await post({ user: "test", authid: first, task: "listsessions" });
    expect(reused.status).toBe(401);
    expect(await reused.text()).toBe("<html><title>401: Unauthorized</title><body>401: Unauthorized</body></html>");
    await cookieOf(await post({ user: "test", authid: second }));
  });

  it("ignores the password when a cookie is sent, as x2goclient sends both", async () => {
    const cookie = await passwordLogin("test");
    const next = await cookieOf(await post({ user: "test", password: "wrong-password", authid: cookie }));
    expect((await post({ user: "test", password: PASSWORD, authid: cookie })).status).toBe(401);
    await cookieOf(await post({ user: "test", password: "", authid: next }));
  });

  it("refuses another user's cookie and leaves it to its owner", async () => {
    const cookie = await passwordLogin("test");
    expect((await post({ user: "jacques", password: PASSWORD, authid: cookie })).status).toBe(401);
    await cookieOf(await post({ user: "test", authid: cookie }));
  });

  it("refuses a cookie from another client address", async () => {
    const cookie = await passwordLogin("test", { "CF-Connecting-IP": "198.51.100.7" });
    expect((await post({ user: "test", authid: cookie }, { "CF-Connecting-IP": "198.51.100.8" })).status).toBe(401);
    expect((await post({ user: "test", authid: cookie })).status).toBe(401);
    await cookieOf(await post({ user: "test", authid: cookie }, { "CF-Connecting-IP": "198.51.100.7" }));
  });

  it("refuses unknown cookies and cookies without a user", async () => {
    expect((await post({ user: "test", authid: crypto.randomUUID() })).status).toBe(401);
    const cookie = await passwordLogin("test");
    expect((await post({ authid: cookie })).status).toBe(401);
  });

  it("works across frontends: a JSON cookie is good for a plain request and back", async () => {
    const response = await post({ user: "test", password: PASSWORD }, {}, "/json/");
    const jsonCookie = ((await response.json()) as { "next-authid": string })["next-authid"];
    const plainCookie = await cookieOf(await post({ user: "test", authid: jsonCookie }));
    const back = await post({ user: "test", authid: plainCookie, task: "listprofiles" }, {}, "/json/");
    expect(back.status).toBe(200);
    expect((await back.json()) as object).toEqual({ "auth-status": "Access granted", "next-authid": expect.any(String), profiles: {}, task: "listprofiles" });
  });

  it("leaves testcon outside the chain: it neither needs nor spends a cookie", async () => {
    const cookie = await passwordLogin("test");
    expect(await (await post({ user: "test", authid: cookie, task: "testcon" })).text()).toBe("OK\nAccess granted\n");
    await cookieOf(await post({ user: "test", authid: cookie }));
  });

  it("stores only a SHA-256 of each cookie", async () => {
    const cookie = await passwordLogin("test");
    const rows = await env.DB.prepare("SELECT * FROM x2go_cookies WHERE cookie_hash = ?").bind(await sha256Hex(cookie)).all<Record<string, unknown>>();
    expect(rows.results).toHaveLength(1);
    expect(Object.values(rows.results[0] ?? {})).not.toContain(cookie);
    expect(rows.results[0]).toMatchObject({ login: "test", client_ip: "" });
  });
});

describe("the chain's end", () => {
  it("ends the auth timeout after the password login, however often the cookie was renewed", async () => {
    const start = Date.now();
    const first = await authenticateX2go(env, params({ user: "test", password: PASSWORD }), undefined, start);
    const renewed = await authenticateX2go(env, params({ user: "test", authid: first.nextAuthid }), undefined, start + AUTH_TIMEOUT_MS - 1000);
    await expect(authenticateX2go(env, params({ user: "test", authid: renewed.nextAuthid }), undefined, start + AUTH_TIMEOUT_MS)).rejects.toMatchObject({
      status: 401,
    });
  });

  it("drops expired cookies at the next password login", async () => {
    const start = Date.now();
    const old = await authenticateX2go(env, params({ user: "test", password: PASSWORD }), undefined, start - AUTH_TIMEOUT_MS - 1);
    await passwordLogin("test");
    const row = await env.DB.prepare("SELECT 1 FROM x2go_cookies WHERE cookie_hash = ?").bind(await sha256Hex(old.nextAuthid)).first();
    expect(row).toBeNull();
  });

  it("ends the chain when the user's password changes", async () => {
    const cookie = await passwordLogin("changer");
    expect((await admin("/v1/admin/users/changer", "PATCH", { password: "another-password-2" })).status).toBe(200);
    expect((await post({ user: "changer", authid: cookie })).status).toBe(401);
  });

  it("ends the chain when the user is disabled or deleted", async () => {
    const cookie = await passwordLogin("leaver");
    expect((await admin("/v1/admin/users/leaver", "PATCH", { disabled: true })).status).toBe(200);
    expect((await post({ user: "leaver", authid: cookie })).status).toBe(401);
  });
});
