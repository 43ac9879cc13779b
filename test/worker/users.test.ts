/**
 * The admin users API (`/v1/admin/users`): admin-only, validated, never shows a password hash, and
 * deleting a user ends their sessions. Also `requireAdminIdentity` on its own.
 */
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { requireAdminIdentity } from "../../src/auth/user-auth.ts";
import type { AppEnv } from "../../src/env.ts";
import { ADMIN, admin, call, callJson, expectError } from "./helpers.ts";

const PASSWORD = "users api password";
let nextAddress = 1;

async function create(login: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return admin("/v1/admin/users", "POST", { login, password: PASSWORD, ...extra });
}

async function signIn(login: string, password = PASSWORD): Promise<Response> {
  return callJson("/v1/auth/login", "POST", { login, password }, { "CF-Connecting-IP": `10.7.0.${nextAddress++}` });
}

async function tokenFor(login: string, extra: Record<string, unknown> = {}): Promise<string> {
  expect((await create(login, extra)).status).toBe(201);
  return ((await (await signIn(login)).json()) as { token: string }).token;
}

function expectNoSecrets(text: string): void {
  expect(text).not.toMatch(/pbkdf2|passwordHash|password_hash|"password":/);
}

describe("users API: happy path", () => {
  it("creates, reads, lists, changes and deletes a user", async () => {
    const created = await create("carol", { groups: ["lab", "lab", "staff"], isAdmin: false });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ login: "carol", groups: ["lab", "staff"], isAdmin: false, disabled: false });
    expect(await (await admin("/v1/admin/users/carol")).json()).toMatchObject({ login: "carol", groups: ["lab", "staff"] });
    const list = (await (await admin("/v1/admin/users")).json()) as { users: Array<{ login: string }> };
    expect(list.users.map((user) => user.login)).toContain("carol");
    const patched = await admin("/v1/admin/users/carol", "PATCH", { groups: ["ops"], isAdmin: true });
    expect(await patched.json()).toMatchObject({ login: "carol", groups: ["ops"], isAdmin: true });
    expect((await admin("/v1/admin/users/carol", "DELETE")).status).toBe(204);
    await expectError(await admin("/v1/admin/users/carol"), 404, "NOT_FOUND");
  });

  it("changes a password: the new one signs in, the old one no longer does", async () => {
    await create("dave");
    expect((await admin("/v1/admin/users/dave", "PATCH", { password: "dave's new password" })).status).toBe(200);
    expect((await signIn("dave", "dave's new password")).status).toBe(200);
    await expectError(await signIn("dave"), 401, "UNAUTHORIZED");
  });

  it("accepts logins of letters, digits, '.', '_', '@' and '-' up to 64 chars", async () => {
    for (const login of ["a", "first.last@example.com", "under_score-dash", "x".repeat(64)]) {
      expect((await create(login)).status).toBe(201);
    }
  });
});

describe("users API: errors", () => {
  it.each([
    ["a space in the login", { login: "bad login", password: PASSWORD }],
    ["a 65-char login", { login: "x".repeat(65), password: PASSWORD }],
    ["an empty login", { login: "", password: PASSWORD }],
    ["a ';' in the login", { login: "semi;colon", password: PASSWORD }],
    ["a 7-char password", { login: "shorty", password: "7 chars" }],
    ["a 1025-char password", { login: "longpw", password: "x".repeat(1025) }],
    ["no password", { login: "nopw" }],
    ["groups as a string", { login: "groupy", password: PASSWORD, groups: "staff" }],
    ["an unknown field", { login: "extra", password: PASSWORD, role: "root" }],
    ["isAdmin as a string", { login: "flag", password: PASSWORD, isAdmin: "yes" }],
  ])("POST with %s answers 400", async (_label, body) => {
    await expectError(await admin("/v1/admin/users", "POST", body), 400, "BAD_REQUEST");
  });

  it.each([[{}], [{ password: "short" }], [{ disabled: "no" }], [{ login: "rename" }], [{ groups: [""] }]])("PATCH with %j answers 400", async (body) => {
    const login = `patch-${nextAddress++}`;
    await create(login);
    await expectError(await admin(`/v1/admin/users/${login}`, "PATCH", body), 400, "BAD_REQUEST");
  });

  it("answers 409 for a login that exists, and keeps the first user's password", async () => {
    expect((await create("erin")).status).toBe(201);
    await expectError(await admin("/v1/admin/users", "POST", { login: "erin", password: "another password" }), 409, "CONFLICT");
    expect((await signIn("erin")).status).toBe(200);
  });

  it("answers 404 for an unknown user and 400 for a malformed login in the path", async () => {
    await expectError(await admin("/v1/admin/users/nobody"), 404, "NOT_FOUND");
    await expectError(await admin("/v1/admin/users/nobody", "PATCH", { isAdmin: true }), 404, "NOT_FOUND");
    await expectError(await admin("/v1/admin/users/nobody", "DELETE"), 404, "NOT_FOUND");
    await expectError(await admin("/v1/admin/users/bad%20login"), 400, "BAD_REQUEST");
  });
});

describe("users API: security", () => {
  it("refuses every route without the admin token, and changes nothing", async () => {
    const routes: Array<[string, string, unknown?]> = [
      ["GET", "/v1/admin/users"],
      ["POST", "/v1/admin/users", { login: "intruder", password: PASSWORD }],
      ["GET", "/v1/admin/users/intruder"],
      ["PATCH", "/v1/admin/users/intruder", { isAdmin: true }],
      ["DELETE", "/v1/admin/users/intruder"],
    ];
    for (const [method, path, body] of routes) {
      const init = (headers: Record<string, string>) => ({ method, headers: { "Content-Type": "application/json", ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) });
      await expectError(await call(path, init({})), 401, "UNAUTHORIZED");
      await expectError(await call(path, init({ Authorization: "Bearer wrong-token-wrong-token" })), 401, "UNAUTHORIZED");
    }
    await expectError(await admin("/v1/admin/users/intruder"), 404, "NOT_FOUND");
  });

  it("refuses a non-admin user's session token", async () => {
    const token = await tokenFor("frank");
    const response = await callJson("/v1/admin/users", "POST", { login: "franks-friend", password: PASSWORD }, { Authorization: `Bearer ${token}` });
    expect([401, 403]).toContain(response.status);
    await expectError(await admin("/v1/admin/users/franks-friend"), 404, "NOT_FOUND");
  });

  it("never answers a password hash", async () => {
    const created = await create("grace", { groups: ["g"] });
    expectNoSecrets(await created.text());
    expectNoSecrets(await (await admin("/v1/admin/users")).text());
    expectNoSecrets(await (await admin("/v1/admin/users/grace")).text());
    expectNoSecrets(await (await admin("/v1/admin/users/grace", "PATCH", { password: "grace's new password" })).text());
    const { token } = (await (await signIn("grace", "grace's new password")).json()) as { token: string };
    expectNoSecrets(await (await call("/v1/auth/me", { headers: { Authorization: `Bearer ${token}` } })).text());
  });

  it("revokes a user's sessions on delete, even if the login is created again", async () => {
    const token = await tokenFor("heidi");
    const me = () => call("/v1/auth/me", { headers: { Authorization: `Bearer ${token}` } });
    expect((await me()).status).toBe(200);
    expect((await admin("/v1/admin/users/heidi", "DELETE")).status).toBe(204);
    await expectError(await me(), 401, "UNAUTHORIZED");
    expect((await create("heidi")).status).toBe(201);
    await expectError(await me(), 401, "UNAUTHORIZED");
  });

  it("requireAdminIdentity: admin token and admin users pass, other users get 403, no credentials 401", async () => {
    const guarded = new Hono<AppEnv>().get("/", requireAdminIdentity, (c) => c.json(c.get("identity")));
    const status = async (headers: Record<string, string>) => (await guarded.request("/", { headers }, env)).status;
    expect(await status(ADMIN)).toBe(200);
    expect(await status({ Authorization: `Bearer ${await tokenFor("ivan", { isAdmin: true })}` })).toBe(200);
    expect(await status({ Authorization: `Bearer ${await tokenFor("judy")}` })).toBe(403);
    expect(await status({})).toBe(401);
  });
});
