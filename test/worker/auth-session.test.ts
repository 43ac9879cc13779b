/**
 * Broker session tokens on `GET /v1/auth/me`: accepted while valid and while the D1 user still
 * stands behind them; refused (generic 401) when expired, forged, re-targeted or revoked.
 */
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { BROKER_ISSUER } from "../../src/tokens/broker-token.ts";
import { issueRelayTicket } from "../../src/tokens/relay-ticket.ts";
import { issueSessionToken, SESSION_AUDIENCE, SESSION_LIFETIME_SECONDS } from "../../src/tokens/user-session.ts";
import { findUser } from "../../src/db/user-queries.ts";
import { ADMIN, admin, call, callJson, expectError } from "./helpers.ts";

const PASSWORD = "session password 1";
const KEY = new TextEncoder().encode(env.SIGNING_KEY ?? "");
let nextAddress = 1;

async function signedInToken(login: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await admin("/v1/admin/users", "POST", { login, password: PASSWORD, ...extra });
  if (created.status !== 201) throw new Error(`create ${login}: ${created.status}`);
  const response = await callJson("/v1/auth/login", "POST", { login, password: PASSWORD }, { "CF-Connecting-IP": `10.9.0.${nextAddress++}` });
  if (response.status !== 200) throw new Error(`login ${login}: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

function me(token: string): Promise<Response> {
  return call("/v1/auth/me", { headers: { Authorization: `Bearer ${token}` } });
}

async function expectRefused(token: string): Promise<void> {
  const response = await me(token);
  const body = (await response.json()) as { error?: { code: string; message: string } };
  expect({ status: response.status, error: body.error?.code, message: body.error?.message }).toEqual({
    status: 401,
    error: "UNAUTHORIZED",
    message: "authentication required or invalid",
  });
}

function base64UrlJson(value: unknown): string {
  return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A token with the right claims for `login`, signed however the test says. */
async function forged(login: string, options: { key?: Uint8Array; aud?: string; alg?: "HS256" | "HS512" } = {}): Promise<string> {
  const row = await findUser(env.DB, login);
  if (!row) throw new Error(`no user ${login}`);
  const genuine = await issueSessionToken(KEY, { login, groups: [], isAdmin: false, passwordHash: row.passwordHash }, Date.now());
  const payload = JSON.parse(atob(genuine.token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
  const nowSeconds = Math.floor(Date.now() / 1000);
  return new SignJWT({ groups: [], adm: false, pwv: payload["pwv"] })
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setIssuer(BROKER_ISSUER)
    .setAudience(options.aud ?? SESSION_AUDIENCE)
    .setSubject(login)
    .setJti("forged-jti-0123456789")
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + 600)
    .sign(options.key ?? KEY);
}

describe("session tokens: happy path", () => {
  it("identifies the signed-in user, with groups and rights from D1", async () => {
    const token = await signedInToken("sam", { groups: ["lab", "staff"] });
    const response = await me(token);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ login: "sam", groups: ["lab", "staff"], isAdmin: false, isManager: false, source: "password" });
  });

  it("reflects a demotion at once, whatever the token says", async () => {
    const token = await signedInToken("demoted", { isAdmin: true });
    expect(await (await me(token)).json()).toMatchObject({ isAdmin: true, isManager: true });
    await admin("/v1/admin/users/demoted", "PATCH", { isAdmin: false, groups: ["after"] });
    expect(await (await me(token)).json()).toMatchObject({ isAdmin: false, isManager: false, groups: ["after"] });
  });

  it("accepts a token up to 30 seconds past its expiry (clock tolerance)", async () => {
    await signedInToken("late");
    const row = await findUser(env.DB, "late");
    const issuedMs = Date.now() - (SESSION_LIFETIME_SECONDS + 20) * 1000;
    const { token } = await issueSessionToken(KEY, { login: "late", groups: [], isAdmin: false, passwordHash: row!.passwordHash }, issuedMs);
    expect((await me(token)).status).toBe(200);
  });

  it("identifies the admin bearer secret as the admin", async () => {
    const response = await call("/v1/auth/me", { headers: ADMIN });
    expect(await response.json()).toEqual({ login: "admin", groups: [], isAdmin: true, isManager: true, source: "admin-token" });
  });
});

describe("session tokens: errors", () => {
  it("refuses a request without credentials, or with a non-bearer scheme", async () => {
    await expectError(await call("/v1/auth/me"), 401, "UNAUTHORIZED");
    const token = await signedInToken("basic-scheme");
    await expectError(await call("/v1/auth/me", { headers: { Authorization: `Basic ${token}` } }), 401, "UNAUTHORIZED");
  });

  it("refuses an expired token", async () => {
    await signedInToken("expired");
    const row = await findUser(env.DB, "expired");
    const issuedMs = Date.now() - (SESSION_LIFETIME_SECONDS + 60) * 1000;
    const { token } = await issueSessionToken(KEY, { login: "expired", groups: [], isAdmin: false, passwordHash: row!.passwordHash }, issuedMs);
    await expectRefused(token);
  });

  it("refuses the token of a disabled user, and of a user whose password changed", async () => {
    const disabled = await signedInToken("disabled");
    await admin("/v1/admin/users/disabled", "PATCH", { disabled: true });
    await expectRefused(disabled);
    const rekeyed = await signedInToken("rekeyed");
    await admin("/v1/admin/users/rekeyed", "PATCH", { password: "a brand new password" });
    await expectRefused(rekeyed);
  });
});

describe("session tokens: security", () => {
  it("refuses a token with a tampered signature", async () => {
    const token = await signedInToken("tamper-sig");
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flipped = signature.slice(0, 10) + (signature[10] === "A" ? "B" : "A") + signature.slice(11);
    await expectRefused(`${header}.${payload}.${flipped}`);
  });

  it("refuses a token whose payload was changed to another user", async () => {
    await signedInToken("victim", { isAdmin: true });
    const token = await signedInToken("mallory");
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(atob(payload.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
    await expectRefused(`${header}.${base64UrlJson({ ...claims, sub: "victim", adm: true })}.${signature}`);
  });

  it("refuses a token signed with another key", async () => {
    await signedInToken("other-key");
    await expectRefused(await forged("other-key", { key: new TextEncoder().encode("another-signing-key-0123456789abcdef") }));
  });

  it("refuses a token for another audience, such as a relay ticket", async () => {
    await signedInToken("wrong-aud");
    await expectRefused(await forged("wrong-aud", { aud: "relay" }));
    const { ticket } = await issueRelayTicket(KEY, { login: "wrong-aud", pool: "default", serverId: "srv_AAAAAAAAAAAAAAAAAAAA", sessionId: "s-1" }, Date.now());
    await expectRefused(ticket);
  });

  it("refuses alg none and any algorithm but HS256", async () => {
    await signedInToken("alg-none");
    const genuine = await forged("alg-none");
    const payload = genuine.split(".")[1]!;
    await expectRefused(`${base64UrlJson({ alg: "none", typ: "JWT" })}.${payload}.`);
    await expectRefused(await forged("alg-none", { alg: "HS512" }));
  });

  it("accepts the forging helper's own genuine token (the refusals above are not accidents)", async () => {
    await signedInToken("control");
    expect((await me(await forged("control"))).status).toBe(200);
  });
});
