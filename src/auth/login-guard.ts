/**
 * Throttles password guessing: failed sign-ins are counted per login and per client address in
 * fixed windows (D1 `login_failures`, keys `user:<login>` and `ip:<address>`). While either count
 * is at its limit, sign-in is refused before any password is checked. D1 is written only when a
 * sign-in fails (count it) or succeeds (clear the login's count, not the address's: one valid
 * account must not reset an address that is guessing others).
 *
 * Concurrent failures may overshoot a limit by the number in flight; fixed windows let a burst
 * of up to twice the limit straddle a window boundary. Both are accepted for one read and one
 * write per attempt.
 */
import { clearLoginFailures, type LoginFailureRow, readLoginFailures, recordLoginFailures } from "../db/user-queries.ts";

/** Failed sign-ins allowed per login in one window. */
export const USER_FAILURE_LIMIT = 5;
/** Failed sign-ins allowed per client address (IPv6: per /64) in one window. */
export const ADDRESS_FAILURE_LIMIT = 20;
export const FAILURE_WINDOW_MS = 15 * 60 * 1000;

/** The counters one sign-in attempt is judged by; a key is absent when its part is unknown. */
export interface LoginGuardKeys {
  user?: string;
  address?: string;
}

export type LoginGuardVerdict = { limited: false } | { limited: true; key: string; retryAfterSeconds: number };

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
  return { ...(login ? { user: `user:${login}` } : {}), ...(clientIp ? { address: addressKey(clientIp) } : {}) };
}

function keyList(keys: LoginGuardKeys): string[] {
  return [keys.user, keys.address].filter((key): key is string => key !== undefined);
}

function limitOf(key: string): number {
  return key.startsWith("user:") ? USER_FAILURE_LIMIT : ADDRESS_FAILURE_LIMIT;
}

/** Pure: whether any counter in `rows` is at its limit in its current window, and for how long. */
export function judgeFailures(rows: LoginFailureRow[], nowMs: number): LoginGuardVerdict {
  let verdict: LoginGuardVerdict = { limited: false };
  for (const row of rows) {
    const windowEndMs = row.windowStart + FAILURE_WINDOW_MS;
    if (windowEndMs <= nowMs || row.failures < limitOf(row.key)) continue;
    const retryAfterSeconds = Math.max(1, Math.ceil((windowEndMs - nowMs) / 1000));
    if (!verdict.limited || retryAfterSeconds > verdict.retryAfterSeconds) verdict = { limited: true, key: row.key, retryAfterSeconds };
  }
  return verdict;
}

/** Reads the counters (one D1 read) and judges them; writes nothing. */
export async function checkLoginGuard(db: D1Database, keys: LoginGuardKeys, nowMs: number): Promise<LoginGuardVerdict> {
  return judgeFailures(await readLoginFailures(db, keyList(keys)), nowMs);
}

/** Counts a failed sign-in against the login and the address (one D1 write). */
export async function recordFailedSignIn(db: D1Database, keys: LoginGuardKeys, nowMs: number): Promise<void> {
  await recordLoginFailures(db, keyList(keys), nowMs, FAILURE_WINDOW_MS);
}

/** Clears the login's counter after a successful sign-in (one D1 write). */
export async function recordSuccessfulSignIn(db: D1Database, keys: LoginGuardKeys): Promise<void> {
  if (keys.user) await clearLoginFailures(db, keys.user);
}
