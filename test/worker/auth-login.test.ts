/**
 * Password sign-in (`POST /v1/auth/login`): happy path, the generic 401 for every refusal, and the
 * guard against guessing (per login and address, per address, per login from unknown addresses;
 * 429 + Retry-After, no counting while limited). login-lockout.test.ts shows that nobody locks the
 * owner out, on every entry point.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  ADDRESS_FAILURE_LIMIT,
  addressKey,
  FAILURE_WINDOW_MS,
  guardKeys,
  isKnownAddress,
  judgeFailures,
  KNOWN_ADDRESS_REFRESH_MS,
  KNOWN_ADDRESS_TTL_MS,
  LOGIN_FAILURE_LIMIT,
  PAIR_FAILURE_LIMIT,
} from "../../src/auth/login-guard.ts";
import { hashPassword, PBKDF2_ITERATIONS, verifyPassword } from "../../src/auth/passwords.ts";
import { authenticatePassword, signIn } from "../../src/auth/user-auth.ts";
import { BrokerError } from "../../src/core/errors.ts";
import { admin, callJson, expectError } from "./helpers.ts";

const PASSWORD = "correct horse battery";

async function createUser(login: string, extra: Record<string, unknown> = {}): Promise<void> {
  const response = await admin("/v1/admin/users", "POST", { login, password: PASSWORD, ...extra });
  if (response.status !== 201) throw new Error(`create ${login}: ${response.status} ${await response.text()}`);
}

function login(name: string, password: string, address: string): Promise<Response> {
  return callJson("/v1/auth/login", "POST", { login: name, password }, { "CF-Connecting-IP": address });
}

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, code: body.error.code, message: body.error.message };
}

async function failureCount(key: string): Promise<number | null> {
  const row = await env.DB.prepare("SELECT failures FROM login_failures WHERE key = ?").bind(key).first<{ failures: number }>();
  return row?.failures ?? null;
}

async function lastSuccessAt(name: string, address: string): Promise<number | null> {
  const row = await env.DB.prepare("SELECT last_success_at FROM known_sign_in_addresses WHERE login = ? AND address = ?").bind(name, address).first<{ last_success_at: number }>();
  return row?.last_success_at ?? null;
}

describe("sign-in: happy path", () => {
  it("answers a session token, its expiry and the user for the right password", async () => {
    await createUser("happy", { groups: ["staff"], isAdmin: true });
    const before = Date.now();
    const response = await login("happy", PASSWORD, "192.0.2.1");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { token: string; expiresAt: number; user: unknown };
    expect(body.token.split(".")).toHaveLength(3);
    expect(body.expiresAt).toBeGreaterThanOrEqual(before + 12 * 3600 * 1000 - 1000);
    expect(body.expiresAt).toBeLessThanOrEqual(Date.now() + 12 * 3600 * 1000);
    expect(body.user).toEqual({ login: "happy", groups: ["staff"], isAdmin: true });
  });

  it("gives authenticatePassword callers (the X2Go protocol) the user's identity", async () => {
    await createUser("x2go-user", { groups: ["x2go"] });
    expect(await authenticatePassword(env, "x2go-user", PASSWORD, "192.0.2.2")).toEqual({
      login: "x2go-user",
      groups: ["x2go"],
      isAdmin: false,
      isManager: false,
      source: "password",
    });
  });

  it("stores PBKDF2-SHA256 hashes with 100,000 iterations and a per-user salt", async () => {
    const first = await hashPassword(PASSWORD);
    const second = await hashPassword(PASSWORD);
    expect(first).toMatch(new RegExp(`^pbkdf2-sha256\\$${PBKDF2_ITERATIONS}\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{43}$`));
    expect(first).not.toBe(second);
    expect(await verifyPassword(PASSWORD, first)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}!`, first)).toBe(false);
    expect(await verifyPassword(PASSWORD, "pbkdf2-sha256$999999999$AAAA$AAAA")).toBe(false);
    expect(await verifyPassword(PASSWORD, "plain")).toBe(false);
  });

  it("clears the failures of the login from this address after a success, not those from elsewhere", async () => {
    await createUser("forgetful");
    for (let attempt = 0; attempt < PAIR_FAILURE_LIMIT - 1; attempt++) await login("forgetful", "wrong-password", "198.51.100.9");
    await login("forgetful", "wrong-password", "198.51.100.10");
    expect(await failureCount("pair:forgetful ip:198.51.100.9")).toBe(PAIR_FAILURE_LIMIT - 1);
    expect((await login("forgetful", PASSWORD, "198.51.100.9")).status).toBe(200);
    expect(await failureCount("pair:forgetful ip:198.51.100.9")).toBeNull();
    expect(await failureCount("pair:forgetful ip:198.51.100.10")).toBe(1);
    expect(await failureCount("user:forgetful")).toBe(PAIR_FAILURE_LIMIT);
    for (let attempt = 0; attempt < PAIR_FAILURE_LIMIT - 1; attempt++) await login("forgetful", "wrong-password", "198.51.100.9");
    expect((await login("forgetful", PASSWORD, "198.51.100.9")).status).toBe(200);
  });

  it("remembers where a login signed in, rewriting that at most daily", async () => {
    await createUser("regular");
    const startMs = Date.now();
    await authenticatePassword(env, "regular", PASSWORD, "198.51.100.30", startMs);
    expect(await lastSuccessAt("regular", "ip:198.51.100.30")).toBe(startMs);
    await authenticatePassword(env, "regular", PASSWORD, "198.51.100.30", startMs + 1000);
    expect(await lastSuccessAt("regular", "ip:198.51.100.30")).toBe(startMs);
    await authenticatePassword(env, "regular", PASSWORD, "198.51.100.30", startMs + KNOWN_ADDRESS_REFRESH_MS);
    expect(await lastSuccessAt("regular", "ip:198.51.100.30")).toBe(startMs + KNOWN_ADDRESS_REFRESH_MS);
  });
});

describe("sign-in: errors", () => {
  it("answers the same generic 401 for a wrong password and an unknown login", async () => {
    await createUser("known");
    const wrong = await errorOf(await login("known", "not-the-password", "203.0.113.1"));
    const unknown = await errorOf(await login("nobody-here", "not-the-password", "203.0.113.2"));
    expect(wrong).toEqual({ status: 401, code: "UNAUTHORIZED", message: "authentication required or invalid" });
    expect(unknown).toEqual(wrong);
  });

  it("refuses a disabled user with the right password, and accepts them once enabled again", async () => {
    await createUser("sleeper");
    expect((await admin("/v1/admin/users/sleeper", "PATCH", { disabled: true })).status).toBe(200);
    await expectError(await login("sleeper", PASSWORD, "203.0.113.3"), 401, "UNAUTHORIZED");
    expect((await admin("/v1/admin/users/sleeper", "PATCH", { disabled: false })).status).toBe(200);
    expect((await login("sleeper", PASSWORD, "203.0.113.4")).status).toBe(200);
  });

  it("answers 401, not 400, for a login that could never exist", async () => {
    await expectError(await login("no spaces allowed", PASSWORD, "203.0.113.5"), 401, "UNAUTHORIZED");
  });

  it.each([[{}], [{ login: "a" }], [{ login: "a", password: "" }], [{ login: "a", password: "x".repeat(1025) }], [{ login: "a", password: "p", extra: 1 }]])(
    "answers 400 for the body %j",
    async (body) => {
      await expectError(await callJson("/v1/auth/login", "POST", body), 400, "BAD_REQUEST");
    },
  );

  it("refuses everyone with the generic 401 while SIGNING_KEY is missing or short, before checking passwords", async () => {
    await createUser("keyless");
    for (const SIGNING_KEY of [undefined, "too-short"]) {
      const refusal = signIn({ ...env, SIGNING_KEY }, "keyless", PASSWORD, "203.0.113.6");
      await expect(refusal).rejects.toBeInstanceOf(BrokerError);
      await expect(refusal).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
    expect(await failureCount("ip:203.0.113.6")).toBeNull();
  });
});

describe("sign-in: guessing is throttled", () => {
  it(`refuses a login from one address with 429 and Retry-After after ${PAIR_FAILURE_LIMIT} failures there, even with the right password`, async () => {
    await createUser("target");
    for (let attempt = 0; attempt < PAIR_FAILURE_LIMIT; attempt++) {
      await expectError(await login("target", `guess-${attempt}`, "10.1.0.1"), 401, "UNAUTHORIZED");
    }
    const limited = await login("target", PASSWORD, "10.1.0.1");
    expect(limited.status).toBe(429);
    const retryAfterSeconds = Number(limited.headers.get("Retry-After"));
    expect(retryAfterSeconds).toBeGreaterThan(0);
    expect(retryAfterSeconds).toBeLessThanOrEqual(FAILURE_WINDOW_MS / 1000);
    await expectError(limited, 429, "RATE_LIMITED");
    // The login from elsewhere, and other logins from the same address, are unaffected.
    expect((await login("target", PASSWORD, "10.1.0.2")).status).toBe(200);
    await createUser("bystander");
    expect((await login("bystander", PASSWORD, "10.1.0.1")).status).toBe(200);
  });

  it("does not count refusals while limited, so the window is not extended", async () => {
    for (let attempt = 0; attempt < PAIR_FAILURE_LIMIT + 3; attempt++) await login("ghost", "guess", "10.2.0.1");
    expect(await failureCount("pair:ghost ip:10.2.0.1")).toBe(PAIR_FAILURE_LIMIT);
    expect(await failureCount("user:ghost")).toBe(PAIR_FAILURE_LIMIT);
    expect(await failureCount("ip:10.2.0.1")).toBe(PAIR_FAILURE_LIMIT);
  });

  it("throttles unknown logins exactly like known ones", async () => {
    for (let attempt = 0; attempt < PAIR_FAILURE_LIMIT; attempt++) await login("phantom", "guess", "10.3.0.1");
    await expectError(await login("phantom", "guess", "10.3.0.1"), 429, "RATE_LIMITED");
    const startMs = Date.now();
    for (let attempt = 0; attempt < LOGIN_FAILURE_LIMIT; attempt++) {
      await expect(authenticatePassword(env, "phantom-2", "guess", `10.3.1.${attempt}`, startMs)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
    await expect(authenticatePassword(env, "phantom-2", "guess", "10.3.2.1", startMs)).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });

  it(`refuses an address with 429 after ${ADDRESS_FAILURE_LIMIT} failures across logins, and not other addresses`, async () => {
    await createUser("neighbour");
    for (let attempt = 0; attempt < ADDRESS_FAILURE_LIMIT; attempt++) {
      await expectError(await login(`spray-${attempt % 5}`, `guess-${attempt}`, "10.4.0.1"), 401, "UNAUTHORIZED");
    }
    const limited = await login("neighbour", PASSWORD, "10.4.0.1");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    await expectError(limited, 429, "RATE_LIMITED");
    expect((await login("neighbour", PASSWORD, "10.4.0.2")).status).toBe(200);
  });

  it("lets the login in again from a throttled address once the window has passed", async () => {
    await createUser("patient");
    const startMs = Date.now();
    for (let attempt = 0; attempt < PAIR_FAILURE_LIMIT; attempt++) {
      await expect(authenticatePassword(env, "patient", "guess", "10.5.0.1", startMs)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
    await expect(authenticatePassword(env, "patient", PASSWORD, "10.5.0.1", startMs + 1000)).rejects.toMatchObject({ code: "RATE_LIMITED" });
    const later = await authenticatePassword(env, "patient", PASSWORD, "10.5.0.1", startMs + FAILURE_WINDOW_MS + 1);
    expect(later.login).toBe("patient");
  });

  it("forgets a known address after 30 days: the per-login limit applies there again", async () => {
    await createUser("traveller");
    const startMs = Date.now();
    await authenticatePassword(env, "traveller", PASSWORD, "10.7.0.1", startMs);
    const laterMs = startMs + KNOWN_ADDRESS_TTL_MS;
    for (let attempt = 0; attempt < LOGIN_FAILURE_LIMIT; attempt++) {
      await expect(authenticatePassword(env, "traveller", "guess", `10.7.1.${attempt}`, laterMs)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
    await expect(authenticatePassword(env, "traveller", PASSWORD, "10.7.0.1", laterMs)).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });

  it("counts requests without an address as one unknown address: the login is throttled there, the per-address limit is not applied", async () => {
    await createUser("local");
    const startMs = Date.now();
    expect((await authenticatePassword(env, "local", PASSWORD, undefined, startMs)).login).toBe("local");
    for (let attempt = 0; attempt < PAIR_FAILURE_LIMIT; attempt++) {
      await expect(authenticatePassword(env, "local", "guess", undefined, startMs)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
    await expect(authenticatePassword(env, "local", PASSWORD, undefined, startMs)).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(await failureCount("pair:local no-address")).toBe(PAIR_FAILURE_LIMIT);
    expect(await lastSuccessAt("local", "no-address")).toBe(startMs);
    for (let attempt = 0; attempt < ADDRESS_FAILURE_LIMIT; attempt++) {
      await expect(authenticatePassword(env, `local-spray-${attempt}`, "guess", undefined, startMs)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
    await createUser("local-2");
    expect((await authenticatePassword(env, "local-2", PASSWORD, undefined, startMs)).login).toBe("local-2");
  });

  it("purges counters of past windows when it counts a failure", async () => {
    const startMs = Date.now();
    await expect(authenticatePassword(env, "stale", "guess", "10.8.0.1", startMs)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect(await failureCount("pair:stale ip:10.8.0.1")).toBe(1);
    await expect(authenticatePassword(env, "fresh", "guess", "10.8.0.2", startMs + FAILURE_WINDOW_MS)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect(await failureCount("pair:stale ip:10.8.0.1")).toBeNull();
    expect(await failureCount("user:stale")).toBeNull();
    expect(await failureCount("pair:fresh ip:10.8.0.2")).toBe(1);
  });
});

describe("login guard: pure parts", () => {
  it("counts IPv6 clients per /64 and IPv4-mapped addresses as IPv4", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("ip:2001:db8:1:2::/64");
    expect(addressKey("2001:DB8:1:2:bbbb:cccc:dddd:eeee")).toBe("ip:2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("ip:2001:db8:0:0::/64");
    expect(addressKey("::ffff:192.0.2.7")).toBe("ip:192.0.2.7");
    expect(addressKey("192.0.2.7")).toBe("ip:192.0.2.7");
  });

  it("keys an attempt by login and address, address, and login", () => {
    expect(guardKeys("carol", "2001:db8:1:2::9")).toEqual({
      user: "user:carol",
      pair: "pair:carol ip:2001:db8:1:2::/64",
      address: "ip:2001:db8:1:2::/64",
      known: { login: "carol", address: "ip:2001:db8:1:2::/64" },
    });
    expect(guardKeys("carol", undefined)).toEqual({ user: "user:carol", pair: "pair:carol no-address", known: { login: "carol", address: "no-address" } });
    expect(guardKeys(null, "192.0.2.7")).toEqual({ address: "ip:192.0.2.7" });
  });

  it("limits only at each key's limit and inside the window, with the longest Retry-After", () => {
    const nowMs = 10_000_000;
    const windowStart = nowMs - 60_000;
    expect(judgeFailures([{ key: "pair:a ip:1.2.3.4", windowStart, failures: PAIR_FAILURE_LIMIT - 1 }], nowMs)).toEqual({ limited: false });
    expect(judgeFailures([{ key: "pair:a ip:1.2.3.4", windowStart, failures: PAIR_FAILURE_LIMIT }], nowMs)).toMatchObject({ limited: true });
    expect(judgeFailures([{ key: "ip:1.2.3.4", windowStart, failures: ADDRESS_FAILURE_LIMIT - 1 }], nowMs)).toEqual({ limited: false });
    expect(judgeFailures([{ key: "user:a", windowStart, failures: LOGIN_FAILURE_LIMIT - 1 }], nowMs)).toEqual({ limited: false });
    expect(judgeFailures([{ key: "pair:a ip:1.2.3.4", windowStart: nowMs - FAILURE_WINDOW_MS, failures: 99 }], nowMs)).toEqual({ limited: false });
    expect(
      judgeFailures(
        [
          { key: "user:a", windowStart, failures: LOGIN_FAILURE_LIMIT },
          { key: "ip:1.2.3.4", windowStart: nowMs - 1000, failures: ADDRESS_FAILURE_LIMIT },
        ],
        nowMs,
      ),
    ).toEqual({ limited: true, key: "ip:1.2.3.4", retryAfterSeconds: FAILURE_WINDOW_MS / 1000 - 1 });
  });

  it("lifts the per-login limit, and only it, from a known address", () => {
    const nowMs = 10_000_000;
    const windowStart = nowMs - 60_000;
    const atLimit = { key: "user:a", windowStart, failures: LOGIN_FAILURE_LIMIT + 10 };
    expect(judgeFailures([atLimit], nowMs, false)).toMatchObject({ limited: true, key: "user:a" });
    expect(judgeFailures([atLimit], nowMs, true)).toEqual({ limited: false });
    expect(judgeFailures([atLimit, { key: "pair:a ip:1.2.3.4", windowStart, failures: PAIR_FAILURE_LIMIT }], nowMs, true)).toMatchObject({ key: "pair:a ip:1.2.3.4" });
    expect(isKnownAddress(null, nowMs)).toBe(false);
    expect(isKnownAddress(nowMs - KNOWN_ADDRESS_TTL_MS + 1, nowMs)).toBe(true);
    expect(isKnownAddress(nowMs - KNOWN_ADDRESS_TTL_MS, nowMs)).toBe(false);
  });
});
