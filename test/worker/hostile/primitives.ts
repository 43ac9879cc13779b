/**
 * The building blocks of the hostile generators: strings meant to break things, invalid UTF-8,
 * odd headers and query strings, values that fail a schema, and the shape of a generated case.
 */
import fc from "fast-check";

/** Replaced by an invalid UTF-8 sequence once the body is encoded. */
export const BAD_UTF8 = "@@BAD_UTF8@@";
export const INVALID_UTF8 = [[0xff], [0xfe], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]];

const SPECIAL = [
  "\u0000", "\u0007", "\b", "\t", "\n", "\r", "\u001b", "\u007f", "\u0085", "\u2028", "\u2029", "\ufeff", "\ufffd",
  "\ud800", "\udfff", "💥", "%", "%00", "%zz", "\\", '"', "'", "<script>", "${x}", "../", "\u202e", "Ａ", "\u0301", " ", "=", "&", ";", ",", "#", "?", "+",
];

export const char = (min: number, max: number) => fc.integer({ min, max }).map((code) => String.fromCharCode(code));

/** Strings meant to break parsers, validators, storage and renderers. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...SPECIAL), minLength: 1, maxLength: 20 }),
  fc.string({ unit: char(0, 0x1f), minLength: 1, maxLength: 10 }),
  fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([a, b]) => `${a}${BAD_UTF8}${b}`),
  fc.integer({ min: 257, max: 5000 }).map((n) => "x".repeat(n)),
);

/** Printable header values (ByteStrings without CR, LF or NUL). */
export const headerValue = fc.string({ unit: char(0x20, 0x7e), maxLength: 80 }).map((value) => value.trim());

export interface BodyPlan {
  text: string;
  /** Bytes sent as they are, instead of `text`. */
  raw?: Uint8Array;
  /** Content-Type to send; null sends none. */
  contentType: string | null;
  /** Exact substrings of `text` to replace just before encoding (JSON cannot express them). */
  replacements?: Array<[string, string]>;
}

export type CredentialPlan =
  | { kind: "valid" }
  | { kind: "none" }
  | { kind: "header"; value: string }
  | { kind: "foreign-beat" }
  | { kind: "unsigned-beat" }
  | { kind: "ticket-for-other-server" }
  | UiCredentialPlan;

export type UiSessionPlan = "valid" | "none" | "garbage" | "foreign-key" | "user-bearer-token" | "admin-token";
export type UiOriginPlan = "same" | "none" | "foreign" | "null" | "cross-site-fetch";

/** The dashboard's credentials: the session cookie, the CSRF token, and the request's origin. */
export interface UiCredentialPlan {
  kind: "ui";
  session: UiSessionPlan;
  csrf: "valid" | "none" | "wrong";
  origin: UiOriginPlan;
}

export interface HostileCase {
  flaw: string;
  method: string;
  /** Encoded path, query string without `?`. */
  path: string;
  query: string;
  headers: Record<string, string>;
  credential: CredentialPlan;
  body: BodyPlan | null;
  /** The invalid sequence `BAD_UTF8` stands for in this case. */
  badBytes: number[];
  /** X2Go: whether the form carries a valid login and password (the answer then issues a cookie). */
  signsIn?: boolean;
}

/** The body's bytes: replacements applied, `BAD_UTF8` markers turned into invalid UTF-8. */
export function encodeBody(plan: BodyPlan, badBytes: number[]): Uint8Array {
  if (plan.raw) return plan.raw;
  let text = plan.text;
  for (const [from, to] of plan.replacements ?? []) text = text.split(from).join(to);
  const parts = text.split(BAD_UTF8).map((part) => new TextEncoder().encode(part));
  const size = parts.reduce((sum, part) => sum + part.length, 0) + badBytes.length * (parts.length - 1);
  const bytes = new Uint8Array(size);
  let offset = 0;
  parts.forEach((part, index) => {
    if (index > 0) {
      bytes.set(badBytes, offset);
      offset += badBytes.length;
    }
    bytes.set(part, offset);
    offset += part.length;
  });
  return bytes;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Percent-encodes `value`, with `BAD_UTF8` markers as percent-escapes of invalid UTF-8. */
export function encodePiece(value: string): string {
  return value
    .split(BAD_UTF8)
    .map((part) => encodeURIComponent(part.replace(LONE_SURROGATE, "\ufffd")))
    .join("%FF%C0%80");
}

/** A value that fails `schema` (retried from several string families; never a dot segment). */
export function invalidFor(schema: { safeParse(value: unknown): { success: boolean } }): fc.Arbitrary<string> {
  return fc
    .oneof(hostileString, fc.integer({ min: 257, max: 2000 }).map((n) => "y".repeat(n)), fc.constantFrom("", "UPPER", "a b", "srv_short", "-x"))
    .filter((value) => value !== "." && value !== ".." && !schema.safeParse(value).success);
}

const queryPiece = fc.oneof(
  hostileString.map(encodePiece),
  fc.constantFrom("%", "%zz", "%ff", "%c0%80", "%00", "%ED%A0%80", "+", "&&", "==", "%2", "a=b=c", "[]", "a[b]", "__proto__", "constructor"),
);

/** Junk query parameters whose names the route does not read. */
export function junkQuery(reserved: string[]): fc.Arbitrary<string[]> {
  return fc.array(
    fc.tuple(queryPiece, fc.option(queryPiece)).filter(([key]) => !reserved.some((name) => decodeURIComponentOrNull(key) === name) && !reserved.includes(key)).map(([key, value]) => (value === null ? key : `${key}=${value}`)),
    { maxLength: 4 },
  );
}

function decodeURIComponentOrNull(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

export const noiseHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  { "CF-Connecting-IP": headerValue, "cf-ray": headerValue, "X-Forwarded-For": headerValue, Accept: headerValue, Cookie: headerValue, "User-Agent": headerValue },
  { requiredKeys: [] },
);

/** Content types a JSON route accepts, and ones it must refuse. */
export const JSON_TYPES = ["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8"];
export const NOT_JSON_TYPES = ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "application/xml", "text/json", "text/html", "application/octet-stream"];
