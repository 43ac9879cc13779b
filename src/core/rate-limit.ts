/**
 * Coarse request-rate limits on the entry points that cost the most or invite abuse: sign-in
 * (PBKDF2, per client address), enrolment (per client address) and session start/resume (a
 * placement and a relay ticket, per user). Refused with 429 `RATE_LIMITED` and `Retry-After`.
 *
 * Each rule is served by the Workers rate-limiting binding named in it (`[[ratelimits]]` in
 * wrangler.toml, with the same limit and period as here). Those counters are per Cloudflare
 * location, eventually consistent and permissive: a flood brake, not an accounting system. When
 * a binding is absent (a broker started without wrangler.toml, an old runtime) the rule falls
 * back to an in-isolate fixed-window counter with the same limit and period, which is also
 * what the tests drive directly. The limiter is chosen once per binding object (or once per
 * isolate for the fallback), not per request.
 *
 * This is in addition to the sign-in failure guard (src/auth/login-guard.ts), which counts
 * failed passwords per (login, address), per address and per login in D1 and stays the real
 * defence against guessing.
 *
 * Limits are chosen so that no real user or operator meets them:
 * - sign-in: 60 attempts a minute per address (IPv6: per /64), successful or not. A whole office
 *   behind one NAT signing in at 9:00 stays under it; a script hammering PBKDF2 does not.
 * - enrolment: 60 a minute per address. Each needs a one-time admin token; even a fleet rollout
 *   behind one NAT enrols at most a node a second.
 * - session start/resume: 60 a minute per user, i.e. one a second sustained. A client that
 *   reconnects in a tight loop meets it; a person clicking "connect" does not.
 * A request without a known address (only outside Cloudflare, which always sets
 * CF-Connecting-IP) is not counted by address.
 */
import type { Context, MiddlewareHandler } from "hono";
import { addressKey } from "../auth/login-guard.ts";
import type { AppEnv, Env } from "../env.ts";
import { BrokerError } from "./errors.ts";
import { log } from "./log.ts";

/** The only periods the binding supports, in seconds. */
export type RatePeriodSeconds = 10 | 60;

export interface RateLimitRule {
  /** What is limited, for the refusal message. */
  readonly what: string;
  /** The `[[ratelimits]]` binding that serves this rule; its `simple` block holds the same numbers. */
  readonly binding: "SIGN_IN_LIMITER" | "ENROL_LIMITER" | "TICKET_LIMITER";
  /** Requests allowed per key in one period. */
  readonly limit: number;
  readonly periodSeconds: RatePeriodSeconds;
}

/** Sign-in attempts (any outcome) per client address per minute. */
export const SIGN_IN_ATTEMPTS_PER_MINUTE_PER_ADDRESS = 60;
/** Enrolment requests per client address per minute. */
export const ENROLMENTS_PER_MINUTE_PER_ADDRESS = 60;
/** Session starts and resumes (each issues a relay ticket or a redirect) per user per minute. */
export const SESSION_STARTS_PER_MINUTE_PER_USER = 60;

export const SIGN_IN_RULE: RateLimitRule = {
  what: "sign-in attempts from this address",
  binding: "SIGN_IN_LIMITER",
  limit: SIGN_IN_ATTEMPTS_PER_MINUTE_PER_ADDRESS,
  periodSeconds: 60,
};
export const ENROL_RULE: RateLimitRule = {
  what: "enrolments from this address",
  binding: "ENROL_LIMITER",
  limit: ENROLMENTS_PER_MINUTE_PER_ADDRESS,
  periodSeconds: 60,
};
export const TICKET_RULE: RateLimitRule = {
  what: "session starts for this user",
  binding: "TICKET_LIMITER",
  limit: SESSION_STARTS_PER_MINUTE_PER_USER,
  periodSeconds: 60,
};

export const RATE_LIMIT_RULES: readonly RateLimitRule[] = [SIGN_IN_RULE, ENROL_RULE, TICKET_RULE];

export type RateVerdict = { success: true } | { success: false; retryAfterSeconds: number };

export interface Limiter {
  readonly kind: "binding" | "local";
  /** Counts one request for `key` and says whether it is within the limit. */
  limit(key: string): Promise<RateVerdict>;
}

/**
 * The Workers binding. It does not say when its window ends, so `Retry-After` is the whole
 * period (an upper bound). A failing binding lets the request through: the limit is a brake,
 * and refusing everyone because the counter is unavailable would be worse.
 */
export function bindingLimiter(binding: RateLimit, rule: RateLimitRule): Limiter {
  return {
    kind: "binding",
    async limit(key) {
      try {
        const { success } = await binding.limit({ key });
        return success ? { success: true } : { success: false, retryAfterSeconds: rule.periodSeconds };
      } catch (error) {
        log.warn(`rate limiter ${rule.binding} failed, request allowed: ${error instanceof Error ? error.message : String(error)}`);
        return { success: true };
      }
    },
  };
}

/** Keys a fallback limiter tracks before it drops expired windows (and then the oldest). */
export const LOCAL_LIMITER_MAX_KEYS = 10_000;

/**
 * In-isolate fixed windows: a key's window starts at its first request and lasts the period.
 * One isolate's view only (Workers run many), so it is weaker than the binding; memory is
 * bounded by dropping expired windows, then the oldest, past `maxKeys`.
 */
export class FixedWindowLimiter implements Limiter {
  readonly kind = "local";
  readonly #rule: RateLimitRule;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #windows = new Map<string, { startMs: number; count: number }>();

  constructor(rule: RateLimitRule, now: () => number = Date.now, maxKeys = LOCAL_LIMITER_MAX_KEYS) {
    this.#rule = rule;
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  get trackedKeys(): number {
    return this.#windows.size;
  }

  async limit(key: string): Promise<RateVerdict> {
    return this.take(key);
  }

  /** Synchronous `limit`. */
  take(key: string): RateVerdict {
    const nowMs = this.#now();
    const periodMs = this.#rule.periodSeconds * 1000;
    let window = this.#windows.get(key);
    if (!window || nowMs >= window.startMs + periodMs) {
      this.#windows.delete(key);
      if (this.#windows.size >= this.#maxKeys) this.#evict(nowMs, periodMs);
      window = { startMs: nowMs, count: 0 };
      this.#windows.set(key, window);
    }
    if (window.count >= this.#rule.limit) {
      return { success: false, retryAfterSeconds: Math.max(1, Math.ceil((window.startMs + periodMs - nowMs) / 1000)) };
    }
    window.count += 1;
    return { success: true };
  }

  #evict(nowMs: number, periodMs: number): void {
    for (const [key, window] of this.#windows) if (nowMs >= window.startMs + periodMs) this.#windows.delete(key);
    // Still full: Map order is insertion order, so the first keys are the oldest windows.
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < this.#maxKeys) break;
      this.#windows.delete(key);
    }
  }
}

const bindingLimiters = new WeakMap<RateLimit, Limiter>();
const localLimiters = new Map<RateLimitRule["binding"], FixedWindowLimiter>();

function isRateLimit(value: unknown): value is RateLimit {
  return typeof value === "object" && value !== null && typeof (value as { limit?: unknown }).limit === "function";
}

/** The limiter serving `rule` in this environment: its binding when bound, else the isolate's fallback. */
export function limiterFor(env: Env, rule: RateLimitRule): Limiter {
  const binding: unknown = (env as Partial<Record<RateLimitRule["binding"], unknown>>)[rule.binding];
  if (isRateLimit(binding)) {
    let limiter = bindingLimiters.get(binding);
    if (!limiter) {
      limiter = bindingLimiter(binding, rule);
      bindingLimiters.set(binding, limiter);
    }
    return limiter;
  }
  let local = localLimiters.get(rule.binding);
  if (!local) {
    local = new FixedWindowLimiter(rule);
    localLimiters.set(rule.binding, local);
  }
  return local;
}

export function rateLimitedError(rule: RateLimitRule, retryAfterSeconds: number): BrokerError {
  return new BrokerError("RATE_LIMITED", `too many ${rule.what}; try again in ${retryAfterSeconds} s`, {
    headers: { "Retry-After": String(retryAfterSeconds) },
  });
}

/** Counts one request for `key` under `rule`; throws 429 `RATE_LIMITED` with `Retry-After` past the limit. */
export async function enforceRateLimit(env: Env, rule: RateLimitRule, key: string): Promise<void> {
  const verdict = await limiterFor(env, rule).limit(key);
  if (!verdict.success) throw rateLimitedError(rule, verdict.retryAfterSeconds);
}

/** The counter key of the caller's address (per /64 for IPv6), or undefined when unknown. */
export function clientAddressKey(c: Context<AppEnv>): string | undefined {
  const clientIp = c.get("clientIp");
  return clientIp ? addressKey(clientIp) : undefined;
}

/** The counter key of the signed-in user; use after `requireUser`. */
export function userKey(c: Context<AppEnv>): string {
  return `user:${c.get("identity").login}`;
}

/** As `userKey`, but admins are not counted (placing for others in bulk is their job). */
export function nonAdminUserKey(c: Context<AppEnv>): string | undefined {
  return c.get("identity").isAdmin ? undefined : userKey(c);
}

/** Middleware: counts the request under `rule` by `keyOf` (a request without a key is not counted). */
export function rateLimit(rule: RateLimitRule, keyOf: (c: Context<AppEnv>) => string | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = keyOf(c);
    if (key !== undefined) await enforceRateLimit(c.env, rule, key);
    await next();
  };
}
