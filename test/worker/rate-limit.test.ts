/**
 * Rate limits on sign-in, enrolment and session start/resume: the Workers binding as Miniflare
 * simulates it (configured from wrangler.toml), and the in-isolate fallback a broker uses when
 * the binding is absent, both through the routes and as a unit.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { addressKey } from "../../src/auth/login-guard.ts";
import type { Env } from "../../src/env.ts";
import {
  ENROL_RULE,
  ENROLMENTS_PER_MINUTE_PER_ADDRESS,
  FixedWindowLimiter,
  limiterFor,
  RATE_LIMIT_RULES,
  type RateLimitRule,
  SESSION_STARTS_PER_MINUTE_PER_USER,
  SIGN_IN_ATTEMPTS_PER_MINUTE_PER_ADDRESS,
  SIGN_IN_RULE,
  TICKET_RULE,
} from "../../src/core/rate-limit.ts";
import { call, callJson, userToken } from "./helpers.ts";

const app = createApp();
/** The broker as it runs without any `[[ratelimits]]` binding: every rule on the fallback. */
const unboundEnv = { ...env, SIGN_IN_LIMITER: undefined, ENROL_LIMITER: undefined, TICKET_LIMITER: undefined } as unknown as Env;

let addressCounter = 0;
/** A fresh documentation-range address per use, so counters never leak between tests. */
function freshAddress(): string {
  addressCounter += 1;
  return `198.51.${Math.floor(addressCounter / 250)}.${(addressCounter % 250) + 1}`;
}

async function callUnbound(path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`https://broker.test${path}`, init), unboundEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/**
 * Miniflare's simulated binding counts in wall-clock-aligned windows; an exhaust-then-check
 * straddling a boundary would see a fresh window. Start well inside one (waits at most 3 s).
 */
async function awayFromWindowEdge(periodSeconds: number): Promise<void> {
  const intoWindowMs = Date.now() % (periodSeconds * 1000);
  if (intoWindowMs > periodSeconds * 1000 - 3000) await new Promise((resolve) => setTimeout(resolve, periodSeconds * 1000 - intoWindowMs + 50));
}

/** Spends a key's whole allowance on `rule` through the limiter `env` selects; returns how many were allowed. */
async function exhaust(environment: Env, rule: RateLimitRule, key: string): Promise<number> {
  const limiter = limiterFor(environment, rule);
  let allowed = 0;
  for (let attempt = 0; attempt < rule.limit * 2; attempt++) {
    if (!(await limiter.limit(key)).success) return allowed;
    allowed += 1;
  }
  throw new Error(`${rule.binding}: never refused after ${allowed} requests`);
}

async function expectRateLimited(response: Response, maxRetryAfter: number): Promise<void> {
  const body = (await response.json()) as { error?: { code?: string; message?: string } };
  expect(response.status, JSON.stringify(body)).toBe(429);
  expect(body.error?.code).toBe("RATE_LIMITED");
  const retryAfter = Number(response.headers.get("Retry-After"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxRetryAfter);
}

const garbageEnrolment = (address: string): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json", "CF-Connecting-IP": address },
  body: JSON.stringify({ token: "not-a-token" }),
});

describe("the limits", () => {
  it("are the documented numbers, one binding each, with periods the binding supports", () => {
    expect(SIGN_IN_RULE).toMatchObject({ binding: "SIGN_IN_LIMITER", limit: SIGN_IN_ATTEMPTS_PER_MINUTE_PER_ADDRESS, periodSeconds: 60 });
    expect(ENROL_RULE).toMatchObject({ binding: "ENROL_LIMITER", limit: ENROLMENTS_PER_MINUTE_PER_ADDRESS, periodSeconds: 60 });
    expect(TICKET_RULE).toMatchObject({ binding: "TICKET_LIMITER", limit: SESSION_STARTS_PER_MINUTE_PER_USER, periodSeconds: 60 });
    expect(new Set(RATE_LIMIT_RULES.map((rule) => rule.binding)).size).toBe(3);
  });

  it.each(RATE_LIMIT_RULES.map((rule) => [rule.binding, rule] as const))("wrangler.toml binds %s with the same limit as the code", async (_name, rule) => {
    // The binding counts with the limit from wrangler.toml; the fallback with the constant.
    expect(limiterFor(env, rule).kind).toBe("binding");
    await awayFromWindowEdge(rule.periodSeconds);
    expect(await exhaust(env, rule, `probe:${crypto.randomUUID()}`)).toBe(rule.limit);
  });

  it("are chosen once: the same limiter for the same binding, the fallback when it is absent", () => {
    expect(limiterFor(env, SIGN_IN_RULE)).toBe(limiterFor(env, SIGN_IN_RULE));
    const fallback = limiterFor(unboundEnv, SIGN_IN_RULE);
    expect(fallback.kind).toBe("local");
    expect(limiterFor({ ...unboundEnv } as Env, SIGN_IN_RULE)).toBe(fallback);
    expect(limiterFor(unboundEnv, ENROL_RULE)).not.toBe(fallback);
  });
});

describe.each([
  ["the binding", env, (path: string, init: RequestInit) => call(path, init)],
  ["the in-isolate fallback", unboundEnv, callUnbound],
] as const)("through %s", (_name, environment, send) => {
  it("counts every enrolment request per address, then answers 429 with Retry-After", async () => {
    await awayFromWindowEdge(60);
    const address = freshAddress();
    for (let index = 0; index < ENROLMENTS_PER_MINUTE_PER_ADDRESS; index++) {
      const response = await send("/v1/agent/enrol", garbageEnrolment(address));
      expect(response.status).toBe(400);
    }
    await expectRateLimited(await send("/v1/agent/enrol", garbageEnrolment(address)), 60);
    // Another address is not affected.
    expect((await send("/v1/agent/enrol", garbageEnrolment(freshAddress()))).status).toBe(400);
  });

  it("limits sign-in per address before the password is looked at, IPv6 per /64", async () => {
    await awayFromWindowEdge(60);
    const address = "2001:db8:77:" + (addressCounter++ % 65535).toString(16) + "::1";
    expect(await exhaust(environment, SIGN_IN_RULE, addressKey(address))).toBe(SIGN_IN_ATTEMPTS_PER_MINUTE_PER_ADDRESS);
    const sibling = address.replace(/::1$/, ":abcd::9");
    const login = (ip: string, body: unknown = { login: "nobody", password: "wrong" }) =>
      send("/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip }, body: JSON.stringify(body) });
    await expectRateLimited(await login(address), 60);
    await expectRateLimited(await login(sibling), 60);
    await expectRateLimited(await login(address, { malformed: true }), 60);
    expect((await login(freshAddress())).status).toBe(401);
  });

  it("limits session starts and resumes per user, not per address", async () => {
    await awayFromWindowEdge(60);
    const suffix = crypto.randomUUID().slice(0, 8);
    const limited = await userToken(`rl-${suffix}`);
    const other = await userToken(`rl-other-${suffix}`);
    const start = (token: string) =>
      send("/v1/sessions", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ profileId: "no-such-profile" }) });
    const resume = (token: string) =>
      send("/v1/sessions/s-1/resume", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ profileId: "no-such-profile" }) });
    expect(await exhaust(environment, TICKET_RULE, `user:rl-${suffix}`)).toBe(SESSION_STARTS_PER_MINUTE_PER_USER);
    await expectRateLimited(await start(limited), 60);
    await expectRateLimited(await resume(limited), 60);
    expect((await start(other)).status).toBe(404);
    // An unauthenticated caller is refused as such, and spends nobody's allowance.
    expect((await callJson("/v1/sessions", "POST", { profileId: "x" })).status).toBe(401);
  });
});

describe("the fallback counter", () => {
  const rule: RateLimitRule = { what: "test requests", binding: "TICKET_LIMITER", limit: 3, periodSeconds: 10 };

  it("allows the limit per key in a window, says how long is left, and opens the next window", () => {
    let now = 1_000_000;
    const limiter = new FixedWindowLimiter(rule, () => now);
    expect([1, 2, 3].map(() => limiter.take("a").success)).toEqual([true, true, true]);
    now += 2_500;
    expect(limiter.take("a")).toEqual({ success: false, retryAfterSeconds: 8 });
    expect(limiter.take("b").success).toBe(true);
    now += 7_499;
    expect(limiter.take("a")).toEqual({ success: false, retryAfterSeconds: 1 });
    now += 1;
    expect(limiter.take("a").success).toBe(true);
  });

  it("keeps its memory bounded: expired windows go first, then the oldest", () => {
    let now = 0;
    const limiter = new FixedWindowLimiter(rule, () => now, 4);
    for (const key of ["a", "b", "c", "d"]) limiter.take(key);
    now += 10_000;
    limiter.take("e");
    expect(limiter.trackedKeys).toBe(1);
    for (const key of ["f", "g", "h", "i", "j"]) limiter.take(key);
    expect(limiter.trackedKeys).toBe(4);
    // A key still tracked keeps its count.
    limiter.take("j");
    limiter.take("j");
    expect(limiter.take("j").success).toBe(false);
  });

  it("a failing binding lets requests through (the limit is a brake, not a gate)", async () => {
    const broken = { limit: () => Promise.reject(new Error("unavailable")) } as unknown as RateLimit;
    const limiter = limiterFor({ ...unboundEnv, TICKET_LIMITER: broken } as Env, TICKET_RULE);
    expect(limiter.kind).toBe("binding");
    expect(await limiter.limit("user:x")).toEqual({ success: true });
  });
});
