/**
 * OIDC / Cloudflare Access tokens. The IdP is replaced by a key pair made here and a local JWKS
 * (jose `createLocalJWKSet`), because neither Cloudflare Access nor any IdP can be reached from
 * this test environment (no network); production passes the remote JWKS of OIDC_JWKS_URL.
 */
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { type OidcSettings, oidcSettingsFrom, verifyOidcToken } from "../../src/auth/oidc.ts";
import { identify } from "../../src/auth/user-auth.ts";
import type { AppEnv, Env } from "../../src/env.ts";
import { admin, call, callJson } from "./helpers.ts";

const ISSUER = "https://team.cloudflareaccess.com";
const AUDIENCE = "aud-tag-0123456789";
const SETTINGS: OidcSettings = {
  issuer: ISSUER,
  audience: [AUDIENCE],
  jwksUrl: `${ISSUER}/cdn-cgi/access/certs`,
  algorithms: ["RS256", "ES256"],
  clockSkewSeconds: 60,
  loginClaim: "email",
  groupsClaim: "groups",
  adminGroups: ["broker-admins"],
};
const OIDC_ENV: Env = {
  ...env,
  OIDC_ISSUER: ISSUER,
  OIDC_AUDIENCE: AUDIENCE,
  OIDC_JWKS_URL: SETTINGS.jwksUrl,
  OIDC_ADMIN_GROUPS: "broker-admins",
};

let rsaKey: CryptoKey;
let ecKey: CryptoKey;
let strangerKey: CryptoKey;
let jwks: ReturnType<typeof createLocalJWKSet>;

beforeAll(async () => {
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const ec = await generateKeyPair("ES256", { extractable: true });
  strangerKey = (await generateKeyPair("RS256")).privateKey;
  rsaKey = rsa.privateKey;
  ecKey = ec.privateKey;
  const keys: JWK[] = [
    { ...(await exportJWK(rsa.publicKey)), kid: "idp-rsa", alg: "RS256", use: "sig" },
    { ...(await exportJWK(ec.publicKey)), kid: "idp-ec", alg: "ES256", use: "sig" },
  ];
  jwks = createLocalJWKSet({ keys });
});

interface TokenOptions {
  key?: CryptoKey | Uint8Array;
  alg?: string;
  kid?: string;
  iss?: string;
  aud?: string;
  expSeconds?: number;
}

async function idpToken(claims: Record<string, unknown> = { email: "alice@example.com", groups: ["staff"] }, options: TokenOptions = {}): Promise<string> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? "RS256", kid: options.kid ?? "idp-rsa", typ: "JWT" })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setSubject("7d5e1b1a-0000-4000-8000-000000000001")
    .setIssuedAt(nowSeconds - 10)
    .setExpirationTime(nowSeconds + (options.expSeconds ?? 300))
    .sign(options.key ?? rsaKey);
}

function base64UrlJson(value: unknown): string {
  return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function verified(token: string, settings: OidcSettings = SETTINGS) {
  return verifyOidcToken(token, settings, jwks);
}

describe("OIDC: happy path", () => {
  it("maps a valid RS256 token to an identity (login from email, groups from groups)", async () => {
    expect(await verified(await idpToken())).toEqual({
      ok: true,
      value: { login: "alice@example.com", groups: ["staff"], isAdmin: false, isManager: false, source: "oidc" },
    });
  });

  it("accepts ES256 and a token expired by less than the clock skew", async () => {
    expect((await verified(await idpToken(undefined, { alg: "ES256", kid: "idp-ec", key: ecKey }))).ok).toBe(true);
    expect((await verified(await idpToken(undefined, { expSeconds: -30 }))).ok).toBe(true);
  });

  it("makes members of an admin group admins and managers", async () => {
    const result = await verified(await idpToken({ email: "root@example.com", groups: ["staff", "broker-admins"] }));
    expect(result).toMatchObject({ ok: true, value: { isAdmin: true, isManager: true } });
  });

  it.each([
    ["a single string", { groups: "solo" }, SETTINGS, ["solo"]],
    ["an array with non-strings and duplicates", { groups: ["a", 7, null, "b", "a", ""] }, SETTINGS, ["a", "b"]],
    ["no claim", {}, SETTINGS, []],
    ["a custom claim", { roles: ["ops"] }, { ...SETTINGS, groupsClaim: "roles" }, ["ops"]],
    ["a nested claim", { custom: { groups: ["nested"] } }, { ...SETTINGS, groupsClaim: "custom.groups" }, ["nested"]],
    ["a namespaced claim", { "https://example.com/groups": ["ns"] }, { ...SETTINGS, groupsClaim: "https://example.com/groups" }, ["ns"]],
  ])("reads groups from %s", async (_label, claims, settings, groups) => {
    const result = await verified(await idpToken({ email: "g@example.com", ...claims }), settings);
    expect(result).toMatchObject({ ok: true, value: { groups } });
  });

  it("takes the login from the configured claim, falling back to sub", async () => {
    expect(await verified(await idpToken({}))).toMatchObject({ value: { login: "7d5e1b1a-0000-4000-8000-000000000001" } });
    const named = await verified(await idpToken({ preferred_username: "bob" }), { ...SETTINGS, loginClaim: "preferred_username" });
    expect(named).toMatchObject({ value: { login: "bob" } });
  });
});

describe("OIDC: errors", () => {
  it.each([
    ["an expired token", { expSeconds: -120 }, "expired"],
    ["a wrong issuer", { iss: "https://evil.example.com" }, "bad-claims"],
    ["a wrong audience", { aud: "another-app" }, "bad-claims"],
    ["a key not in the JWKS", { key: undefined, kid: "idp-unknown" }, "unknown-key"],
  ])("refuses %s", async (_label, options, reason) => {
    expect(await verified(await idpToken(undefined, options))).toEqual({ ok: false, error: reason });
  });
});

describe("OIDC: security", () => {
  it("refuses a token signed by a stranger under a known key id", async () => {
    expect(await verified(await idpToken(undefined, { key: strangerKey }))).toEqual({ ok: false, error: "bad-signature" });
  });

  it("refuses a tampered signature and a tampered payload", async () => {
    const [header, payload, signature] = (await idpToken()).split(".") as [string, string, string];
    const flipped = signature.slice(0, 10) + (signature[10] === "A" ? "B" : "A") + signature.slice(11);
    expect((await verified(`${header}.${payload}.${flipped}`)).ok).toBe(false);
    const claims = JSON.parse(atob(payload.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
    expect((await verified(`${header}.${base64UrlJson({ ...claims, groups: ["broker-admins"] })}.${signature}`)).ok).toBe(false);
  });

  it("refuses alg none and HS256 (a key confusion attempt)", async () => {
    const payload = (await idpToken()).split(".")[1]!;
    expect(await verified(`${base64UrlJson({ alg: "none", kid: "idp-rsa" })}.${payload}.`)).toEqual({ ok: false, error: "bad-algorithm" });
    const hs = await idpToken(undefined, { alg: "HS256", key: new TextEncoder().encode("a-shared-secret-the-idp-never-had") });
    expect(await verified(hs)).toEqual({ ok: false, error: "bad-algorithm" });
  });

  it("refuses a token without a usable login", async () => {
    const token = await new SignJWT({ email: "has space@example.com" })
      .setProtectedHeader({ alg: "RS256", kid: "idp-rsa" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign(rsaKey);
    expect((await verified(token)).ok).toBe(false);
  });

  it("never accepts none or HS* from configuration, and needs an https JWKS URL", () => {
    const base = { ...OIDC_ENV };
    expect(oidcSettingsFrom({ ...base })).toMatchObject({ algorithms: ["RS256", "ES256"], clockSkewSeconds: 60, loginClaim: "email", groupsClaim: "groups" });
    expect(oidcSettingsFrom({ ...base, OIDC_ALGORITHMS: "none, HS256, ES384" })).toMatchObject({ algorithms: ["ES384"] });
    expect(oidcSettingsFrom({ ...base, OIDC_ALGORITHMS: "HS256,none" })).toBeNull();
    expect(oidcSettingsFrom({ ...base, OIDC_JWKS_URL: "http://idp.example.com/jwks" })).toBeNull();
    expect(oidcSettingsFrom({ ...base, OIDC_CLOCK_SKEW_SECONDS: "5" })).toMatchObject({ clockSkewSeconds: 5 });
    expect(oidcSettingsFrom({ ...base, OIDC_ISSUER: undefined })).toBeNull();
  });
});

describe("OIDC: in the request pipeline", () => {
  const probe = new Hono<AppEnv>().get("/", async (c) => c.json({ identity: await identify(c, { oidcKeySource: jwks }) }));
  const identityFor = async (headers: Record<string, string>, bindings: Env = OIDC_ENV) =>
    ((await (await probe.request("/", { headers }, bindings)).json()) as { identity: unknown }).identity;

  it("reads the token from Cf-Access-Jwt-Assertion or from Authorization: Bearer", async () => {
    const token = await idpToken();
    expect(await identityFor({ "Cf-Access-Jwt-Assertion": token })).toMatchObject({ login: "alice@example.com", source: "oidc" });
    expect(await identityFor({ Authorization: `Bearer ${token}` })).toMatchObject({ login: "alice@example.com", source: "oidc" });
  });

  it("ignores IdP tokens while OIDC is not configured", async () => {
    const token = await idpToken();
    expect(await identityFor({ "Cf-Access-Jwt-Assertion": token }, env)).toBeNull();
    expect((await call("/v1/auth/me", { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it("prefers a broker session token over an Access assertion", async () => {
    expect((await admin("/v1/admin/users", "POST", { login: "both", password: "both-password" })).status).toBe(201);
    const signedIn = await callJson("/v1/auth/login", "POST", { login: "both", password: "both-password" }, { "CF-Connecting-IP": "10.8.0.1" });
    const { token } = (await signedIn.json()) as { token: string };
    const identity = await identityFor({ Authorization: `Bearer ${token}`, "Cf-Access-Jwt-Assertion": await idpToken() });
    expect(identity).toMatchObject({ login: "both", source: "password" });
  });

  it("refuses an expired assertion and a bearer that is neither a JWT nor the admin token", async () => {
    const expired = await idpToken(undefined, { expSeconds: -600 });
    expect(await identityFor({ "Cf-Access-Jwt-Assertion": expired, Authorization: "Bearer not-a-jwt-not-admin" })).toBeNull();
  });
});
