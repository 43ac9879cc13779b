/**
 * AUTHID cookies of the X2Go broker protocol (x2gobroker `check_access`, base_broker.py
 * l.942-1077): every successful answer hands out a new uuid-like cookie; the next request may
 * present it instead of a password. A cookie is single use, bound to the login and the client
 * address it was issued to, and valid until the chain's deadline: `AUTH_TIMEOUT_MS` after the
 * password login that started the chain (x2gobroker's `auth-timeout` default), carried along.
 * D1 holds only a SHA-256 of each cookie (src/db/x2go-cookie-queries.ts).
 */
import { sha256Hex } from "../core/crypto.ts";
import { deleteExpiredX2goCookies, insertX2goCookie, spendX2goCookie } from "../db/x2go-cookie-queries.ts";

/** x2gobroker's default `auth-timeout` (36000 s), measured from the chain's password login. */
export const AUTH_TIMEOUT_MS = 36_000 * 1000;

/** What a cookie vouches for; the same for every cookie of one chain. */
export interface CookieChain {
  login: string;
  /** The address the chain is bound to; "" when the login request had none. */
  clientIp: string;
  /** Fingerprint of the password hash at the login (`passwordVersion`). */
  passwordVersion: string;
  authAt: number;
  expiresAt: number;
}

/** Starts a chain at a password login made at `nowMs`. */
export function newChain(login: string, clientIp: string | undefined, passwordVersion: string, nowMs: number): CookieChain {
  return { login, clientIp: clientIp ?? "", passwordVersion, authAt: nowMs, expiresAt: nowMs + AUTH_TIMEOUT_MS };
}

/** Stores and returns a fresh cookie (a uuid4, as x2gobroker hands out) for `chain`. */
export async function issueCookie(db: D1Database, chain: CookieChain): Promise<string> {
  const cookie = crypto.randomUUID();
  await insertX2goCookie(db, { cookieHash: await sha256Hex(cookie), ...chain });
  return cookie;
}

/**
 * Spends a cookie presented by `login` from `clientIp` (undefined: no address): one atomic
 * delete, so of two concurrent presentations only one succeeds. Returns its chain, or null when
 * the cookie is unknown, spent, expired, or bound to another login or address; such a
 * presentation leaves the cookie as it was.
 */
export async function redeemCookie(db: D1Database, cookie: string, login: string, clientIp: string | undefined, nowMs: number): Promise<CookieChain | null> {
  const row = await spendX2goCookie(db, await sha256Hex(cookie), login, clientIp ?? "", nowMs);
  if (!row) return null;
  const { cookieHash: _hash, ...chain } = row;
  return chain;
}

/** Deletes every expired cookie: chains end without a last request, so their cookies pile up. */
export async function purgeExpiredCookies(db: D1Database, nowMs: number): Promise<void> {
  await deleteExpiredX2goCookies(db, nowMs);
}
