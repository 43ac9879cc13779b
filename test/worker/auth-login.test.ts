/**
 * Password sign-in (`POST /v1/auth/login`): happy path, the generic 401 for every refusal, and the
 * guard against guessing (per login and per address, 429 + Retry-After, no counting while limited).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADDRESS_FAILURE_LIMIT, addressKey, FAILURE_WINDOW_MS, judgeFailures, USER_FAILURE_LIMIT } from "../../src/auth/login-guard.ts";
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

  it("clears the login's failure count after a success", async () => {
    await createUser("forgetful");
    for (let attempt = 0; attempt < USER_FAILURE_LIMIT - 1; attempt++) await login("forgetful", "wrong-password", `198.51.100.${attempt + 1}`);
    expect(await failureCount("user:forgetful")).toBe(USER_FAILURE_LIMIT - 1);
    expect((await login("forgetful", PASSWORD, "198.51.100.9")).status).toBe(200);
    expect(await failureCount("user:forgetful")).toBeNull();
    for (let attempt = 0; attempt < USER_FAILURE_LIMIT - 1; attempt++) await login("forgetful", "wrong-password", `198.51.100.${attempt + 10}`);
    expect((await login("forgetful", PASSWORD, "198.51.100.20")).status).toBe(200);
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
  it(`refuses a login with 429 and Retry-After after ${USER_FAILURE_LIMIT} failures from any addresses, even with the right password`, async () => {
    await createUser("target");
    for (let attempt = 0; attempt < USER_FAILURE_LIMIT; attempt++) {
      await expectError(await login("target", `guess-${attempt}`, `10.1.0.${attempt + 1}`), 401, "UNAUTHORIZED");
    }
    const limited = await login("target", PASSWORD, "10.1.0.100");
    expect(limited.status).toBe(429);
    const retryAfterSeconds = Number(limited.headers.get("Retry-After"));
    expect(retryAfterSeconds).toBeGreaterThan(0);
    expect(retryAfterSeconds).toBeLessThanOrEqual(FAILURE_WINDOW_MS / 1000);
    await expectError(limited, 429, "RATE_LIMITED");
    // Other logins from the same address are unaffected.
    await createUser("bystander");
    expect((await login("bystander", PASSWORD, "10.1.0.100")).status).toBe(200);
  });

  it("does not count refusals while limited, so the window is not extended", async () => {
    for (let attempt = 0; attempt < USER_FAILURE_LIMIT + 3; attempt++) await login("ghost", "guess", `10.2.0.${attempt + 1}`);
    expect(await failureCount("user:ghost")).toBe(USER_FAILURE_LIMIT);
    expect(await failureCount("ip:10.2.0.8")).toBeNull();
  });

  it("throttles unknown logins exactly like known ones", async () => {
    for (let attempt = 0; attempt < USER_FAILURE_LIMIT; attempt++) await login("phantom", "guess", `10.3.0.${attempt + 1}`);
    await expectError(await login("phantom", "guess", "10.3.0.100"), 429, "RATE_LIMITED");
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

  it("lets the login in again once the window has passed", async () => {
    await createUser("patient");
    const startMs = Date.now();
    for (let attempt = 0; attempt < USER_FAILURE_LIMIT; attempt++) {
      await expect(authenticatePassword(env, "patient", "guess", `10.5.0.${attempt + 1}`, startMs)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
    await expect(authenticatePassword(env, "patient", PASSWORD, "10.5.0.50", startMs + 1000)).rejects.toMatchObject({ code: "RATE_LIMITED" });
    const later = await authenticatePassword(env, "patient", PASSWORD, "10.5.0.50", startMs + FAILURE_WINDOW_MS + 1);
    expect(later.login).toBe("patient");
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

  it("limits only at the limit and inside the window, with the longest Retry-After", () => {
    const nowMs = 10_000_000;
    const windowStart = nowMs - 60_000;
    expect(judgeFailures([{ key: "user:a", windowStart, failures: USER_FAILURE_LIMIT - 1 }], nowMs)).toEqual({ limited: false });
    expect(judgeFailures([{ key: "ip:1.2.3.4", windowStart, failures: USER_FAILURE_LIMIT }], nowMs)).toEqual({ limited: false });
    expect(judgeFailures([{ key: "user:a", windowStart: nowMs - FAILURE_WINDOW_MS, failures: 99 }], nowMs)).toEqual({ limited: false });
    expect(
      judgeFailures(
        [
          { key: "user:a", windowStart, failures: USER_FAILURE_LIMIT },
          { key: "ip:1.2.3.4", windowStart: nowMs - 1000, failures: ADDRESS_FAILURE_LIMIT },
        ],
        nowMs,
      ),
    ).toEqual({ limited: true, key: "ip:1.2.3.4", retryAfterSeconds: FAILURE_WINDOW_MS / 1000 - 1 });
  });
});
