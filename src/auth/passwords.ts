/**
 * Password hashing for broker-managed users: PBKDF2-SHA256 through WebCrypto, a random 16-byte
 * salt per user, a 32-byte derived key, stored as
 * `pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>`.
 */
import { toBase64Url } from "../core/crypto.ts";

/** workerd refuses PBKDF2 above 100,000 iterations, which is also the floor we were asked for. */
export const PBKDF2_ITERATIONS = 100_000;
export const PASSWORD_SALT_BYTES = 16;
export const PASSWORD_HASH_BYTES = 32;
const SCHEME = "pbkdf2-sha256";

const encoder = new TextEncoder();

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/");
  try {
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, PASSWORD_HASH_BYTES * 8);
  return new Uint8Array(bits);
}

interface ParsedHash {
  iterations: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

function parseStoredHash(stored: string): ParsedHash | null {
  const [scheme, iterationsText, saltText, hashText, ...rest] = stored.split("$");
  if (scheme !== SCHEME || rest.length > 0 || !iterationsText || !/^[1-9][0-9]{0,6}$/.test(iterationsText)) return null;
  const iterations = Number(iterationsText);
  if (iterations > PBKDF2_ITERATIONS) return null;
  const salt = fromBase64Url(saltText ?? "");
  const hash = fromBase64Url(hashText ?? "");
  if (!salt || salt.length === 0 || !hash || hash.length !== PASSWORD_HASH_BYTES) return null;
  return { iterations, salt, hash };
}

/** Hashes a password with a fresh random salt; the result is what `users.password_hash` stores. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(PASSWORD_SALT_BYTES));
  const hash = await derive(password, salt, PBKDF2_ITERATIONS);
  return `${SCHEME}$${PBKDF2_ITERATIONS}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

// A fixed salt is fine here: the dummy hash only burns the same CPU time as a real check.
const DUMMY_SALT = new Uint8Array(PASSWORD_SALT_BYTES);
const DUMMY_HASH = new Uint8Array(PASSWORD_HASH_BYTES);

/**
 * True if `password` matches `stored`, compared in constant time. A malformed stored value is
 * treated as a mismatch, after the same amount of work as a real check.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseStoredHash(stored);
  if (!parsed) {
    await verifyDummyPassword(password);
    return false;
  }
  const candidate = await derive(password, parsed.salt, parsed.iterations);
  return crypto.subtle.timingSafeEqual(candidate, parsed.hash);
}

/**
 * Runs a full PBKDF2 check against a dummy hash and returns false. Called for unknown logins so
 * that the response time does not reveal whether a login exists.
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  const candidate = await derive(password, DUMMY_SALT, PBKDF2_ITERATIONS);
  crypto.subtle.timingSafeEqual(candidate, DUMMY_HASH);
  return false;
}
