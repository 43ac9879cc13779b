/**
 * `POST /v1/auth/refresh` (issue 17: the `edge-desktop` helper keeps a user signed in): a valid
 * session token of a user who still checks out becomes a fresh one from the same sign-in; every
 * other credential, and a sign-in older than MAX_SIGN_IN_AGE_SECONDS, is the generic 401.
 */
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { issueSessionToken, MAX_SIGN_IN_AGE_SECONDS } from "../../src/tokens/user-session.ts";
import { findUser } from "../../src/db/user-queries.ts";
import { ADMIN_TOKEN, admin, asUser, call, expectError, userToken } from "./helpers.ts";

const KEY = new TextEncoder().encode(env.SIGNING_KEY ?? "");
const DAY_MS = 24 * 3600 * 1000;

function refresh(token: string | null): Promise<Response> {
  return call("/v1/auth/refresh", { method: "POST", headers: token === null ? {} : { Authorization: `Bearer ${token}` } });
}

async function tokenSignedInAt(login: string, signedInAtMs: number, nowMs = Date.now()): Promise<string> {
  const row = await findUser(env.DB, login);
  if (!row) throw new Error(`no user ${login}`);
  return (await issueSessionToken(KEY, { login, groups: [], isAdmin: false, passwordHash: row.passwordHash }, nowMs, signedInAtMs)).token;
}

let rita: string;
beforeAll(async () => {
  rita = await userToken("rita", ["staff"]);
});

describe("POST /v1/auth/refresh", () => {
  it("exchanges a valid session token for a fresh one of the same sign-in, which works", async () => {
    const response = await refresh(rita);
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { token: string; expiresAt: number; user: { login: string; groups: string[] } };
    expect(answer.user).toEqual({ login: "rita", groups: ["staff"], isAdmin: false });
    expect(answer.token).not.toBe(rita);
    expect(decodeJwt(answer.token)["ath"]).toBe(decodeJwt(rita)["ath"]);
    expect((await asUser(answer.token, "/v1/auth/me")).status).toBe(200);
  });

  it("keeps refreshing within the sign-in's age and stops after it", async () => {
    expect((await refresh(await tokenSignedInAt("rita", Date.now() - 6 * DAY_MS))).status).toBe(200);
    await expectError(await refresh(await tokenSignedInAt("rita", Date.now() - MAX_SIGN_IN_AGE_SECONDS * 1000 - 60_000)), 401, "UNAUTHORIZED");
  });

  it("refuses a user who was disabled, deleted or changed password since", async () => {
    const gone = await userToken("gone");
    const moved = await userToken("moved");
    const off = await userToken("off");
    expect((await admin("/v1/admin/users/gone", "DELETE")).status).toBe(204);
    expect((await admin("/v1/admin/users/moved", "PATCH", { password: "another-password-9" })).status).toBe(200);
    expect((await admin("/v1/admin/users/off", "PATCH", { disabled: true })).status).toBe(200);
    for (const token of [gone, moved, off]) await expectError(await refresh(token), 401, "UNAUTHORIZED");
  });

  it("refuses no credential, an expired session, the admin secret and garbage alike", async () => {
    const expired = await tokenSignedInAt("rita", Date.now() - 13 * 3600 * 1000, Date.now() - 13 * 3600 * 1000);
    for (const token of [null, expired, ADMIN_TOKEN, "not-a-token"]) await expectError(await refresh(token), 401, "UNAUTHORIZED");
  });
});
