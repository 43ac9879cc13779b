/**
 * Throttles password guessing without letting anyone lock the owner out. Failed sign-ins are
 * counted in fixed 15-minute windows (D1 `login_failures`) under three keys:
 * - `pair:<login> <address>`, one login from one address (5): an attacker's failures throttle
 *   the attacker's address, while the owner signing in from elsewhere is not affected;
 * - `ip:<address>`, one address across logins (20): spraying many logins from one address;
 * - `user:<login>`, one login from every address (50): guessing one account from many addresses.
 *   It does not apply from an address where the login signed in successfully in the last 30 days
 *   (D1 `known_sign_in_addresses`), so such guessing cannot lock the owner out of their usual
 *   places; from new addresses the login waits for the window to pass.
 * While a key that applies is at its limit, sign-in is refused before any password is checked,
 * and nothing is counted. An address is its counter key (`addressKey`: IPv6 per /64). A request
 * without one (local runs; Cloudflare always sets CF-Connecting-IP) counts as coming from one
 * address, `no-address`: the pair and per-login limits apply, the per-address one does not.
 *
 * Cost per attempt: one D1 read (one batch: the counters and the known address) and at most one
 * write (one batch). A failure counts under every key and purges counters of past windows. A
 * success clears the pair's count (the owner's own typos from there), never the login's or the
 * address's, which measure guessing from elsewhere; and it remembers the address, rewritten at
 * most daily, purging addresses unused for 30 days.
 *
 * Concurrent failures may overshoot a limit by the number in flight; fixed windows let a burst
 * of up to twice a limit straddle a window boundary. Both are accepted for one read and one
 * write per attempt.
 */
import {
  type LoginAddress,
  type LoginFailureRow,
  readLoginGuardRows,
  recordLoginFailures,
  recordSignInSuccess,
} from "../db/login-guard-queries.ts";

/** Failed sign-ins allowed per login and client address in one window. */
export const PAIR_FAILURE_LIMIT = 5;
/** Failed sign-ins allowed per client address (IPv6: per /64) across logins in one window. */
export const ADDRESS_FAILURE_LIMIT = 20;
/** Failed sign-ins allowed per login from all addresses in one window; known addresses are exempt. */
export const LOGIN_FAILURE_LIMIT = 50;
export const FAILURE_WINDOW_MS = 15 * 60 * 1000;
/** How long a successful sign-in keeps its address known to the login. */
export const KNOWN_ADDRESS_TTL_MS = 30 * 24 * 3600 * 1000;
/** A known address's success time is rewritten at most this often, so most sign-ins write nothing. */
export const KNOWN_ADDRESS_REFRESH_MS = 24 * 3600 * 1000;
/** The address of requests that carry none. */
export const NO_ADDRESS = "no-address";

/** The counters one sign-in attempt is judged by; a key is absent when its part is unknown. */
export interface LoginGuardKeys {
  user?: string;
  pair?: string;
  address?: string;
  /** The login and address whose recent success lifts the per-login limit. */
  known?: LoginAddress;
}

export type LoginGuardVerdict = { limited: false } | { limited: true; key: string; retryAfterSeconds: number };

/** An attempt's verdict, and what its success would have to change. */
export interface LoginGuardReading {
  verdict: LoginGuardVerdict;
  /** Whether the pair has a counter to clear. */
  pairCounted: boolean;
  /** When the login last signed in from this address (epoch ms), or null. */
  lastSuccessAt: number | null;
}

/**
 * The counter key of a client address. IPv6 clients usually hold a whole /64, so they are counted
 * per /64; IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function addressKey(address: string): string {
  const ip = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
  if (mapped) return `ip:${mapped[1]}`;
  if (!ip.includes(":")) return `ip:${ip}`;
  const halves = ip.split("::");
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(":") : [];
  const width = (groups: string[]) => groups.reduce((sum, group) => sum + (group.includes(".") ? 2 : 1), 0);
  const zeros = halves.length > 1 ? Math.max(0, 8 - width(head) - width(tail)) : 0;
  const groups = [...head, ...Array<string>(zeros).fill("0"), ...tail].slice(0, 4);
  if (groups.length < 4 || groups.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return `ip:${ip}`;
  return `ip:${groups.map((group) => Number.parseInt(group, 16).toString(16)).join(":")}::/64`;
}

export function guardKeys(login: string | null, clientIp: string | undefined): LoginGuardKeys {
  const address = clientIp ? addressKey(clientIp) : undefined;
  const keys: LoginGuardKeys = address ? { address } : {};
  if (!login) return keys;
  const from = address ?? NO_ADDRESS;
  return { ...keys, user: `user:${login}`, pair: `pair:${login} ${from}`, known: { login, address: from } };
}

function keyList(keys: LoginGuardKeys): string[] {
  return [keys.pair, keys.address, keys.user].filter((key): key is string => key !== undefined);
}

/** Whether a success at `lastSuccessAt` still makes the address known at `nowMs`. */
export function isKnownAddress(lastSuccessAt: number | null, nowMs: number): boolean {
  return lastSuccessAt !== null && lastSuccessAt > nowMs - KNOWN_ADDRESS_TTL_MS;
}

function limitOf(key: string, knownAddress: boolean): number {
  if (key.startsWith("pair:")) return PAIR_FAILURE_LIMIT;
  if (key.startsWith("user:")) return knownAddress ? Number.POSITIVE_INFINITY : LOGIN_FAILURE_LIMIT;
  return ADDRESS_FAILURE_LIMIT;
}

/**
 * Pure: whether any counter in `rows` is at its limit in its current window, and for how long.
 * From a `knownAddress` the per-login counter has no limit.
 */
export function judgeFailures(rows: LoginFailureRow[], nowMs: number, knownAddress = false): LoginGuardVerdict {
  let verdict: LoginGuardVerdict = { limited: false };
  for (const row of rows) {
    const windowEndMs = row.windowStart + FAILURE_WINDOW_MS;
    if (windowEndMs <= nowMs || row.failures < limitOf(row.key, knownAddress)) continue;
    const retryAfterSeconds = Math.max(1, Math.ceil((windowEndMs - nowMs) / 1000));
    if (!verdict.limited || retryAfterSeconds > verdict.retryAfterSeconds) verdict = { limited: true, key: row.key, retryAfterSeconds };
  }
  return verdict;
}

/** Reads the counters and the known address (one D1 read) and judges them; writes nothing. */
export async function checkLoginGuard(db: D1Database, keys: LoginGuardKeys, nowMs: number): Promise<LoginGuardReading> {
  const { failures, lastSuccessAt } = await readLoginGuardRows(db, keyList(keys), keys.known);
  return {
    verdict: judgeFailures(failures, nowMs, isKnownAddress(lastSuccessAt, nowMs)),
    pairCounted: failures.some((row) => row.key === keys.pair),
    lastSuccessAt,
  };
}

/** Counts a failed sign-in under every key (one D1 write). */
export async function recordFailedSignIn(db: D1Database, keys: LoginGuardKeys, nowMs: number): Promise<void> {
  await recordLoginFailures(db, keyList(keys), nowMs, FAILURE_WINDOW_MS);
}

/** Clears the pair's counter and remembers the address, as needed (at most one D1 write). */
export async function recordSuccessfulSignIn(db: D1Database, keys: LoginGuardKeys, reading: LoginGuardReading, nowMs: number): Promise<void> {
  const clearKey = keys.pair !== undefined && reading.pairCounted ? keys.pair : undefined;
  const stale = reading.lastSuccessAt === null || reading.lastSuccessAt <= nowMs - KNOWN_ADDRESS_REFRESH_MS;
  const remember = keys.known && stale ? { ...keys.known, nowMs, forgetBeforeMs: nowMs - KNOWN_ADDRESS_TTL_MS } : undefined;
  await recordSignInSuccess(db, { ...(clearKey ? { clearKey } : {}), ...(remember ? { remember } : {}) });
}
