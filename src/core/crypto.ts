/** Small WebCrypto helpers shared by enrolment, tokens and admin auth; runtime-neutral (the agent uses them too). */

const encoder = new TextEncoder();

export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export async function sha256(data: string | Uint8Array): Promise<Uint8Array> {
  const input = typeof data === "string" ? encoder.encode(data) : data;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", input));
}

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  return toHex(await sha256(data));
}

export async function sha256Base64Url(data: string | Uint8Array): Promise<string> {
  return toBase64Url(await sha256(data));
}

/** A random URL-safe string carrying `bytes` bytes of entropy. */
export function randomToken(bytes: number): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random id `<prefix>_<length alphanumerics>` (62^20 ≈ 2^119 for the default length). */
export function randomId(prefix: string, length = 20): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  // 256 % 62 = 8: the first 8 symbols are very slightly more likely; irrelevant for ids.
  return `${prefix}_${Array.from(bytes, (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join("")}`;
}

/**
 * Compares two secrets in constant time. Both sides are hashed first, so neither the length nor
 * the content of the expected secret leaks through timing.
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(given), sha256(expected)]);
  // Equal-length digests, every byte compared: no early exit (portable, unlike subtle.timingSafeEqual).
  let difference = 0;
  for (let index = 0; index < a.length; index++) difference |= (a[index] ?? 0) ^ (b[index] ?? 0);
  return difference === 0;
}
