/**
 * Body flaws: for a JSON route, malformed JSON, a body that is not an object, a missing, extra,
 * mistyped or infinite field, huge arrays and strings, deep nesting, an oversized body, a content
 * type that is not JSON; for a text route, the wrong content type and an oversized body; for a
 * profile route, text an X2Go client would read as a line break. Each alone makes the body
 * unacceptable; the rest of the body carries hostile strings as noise.
 */
import fc from "fast-check";
import { BAD_UTF8, type BodyPlan, char, hostileString, JSON_TYPES, NOT_JSON_TYPES } from "./primitives.ts";
import type { JsonBodySpec, TextBodySpec } from "./routes.ts";

/**
 * Profile text an X2Go client would read as a line break: `<br>` in any case or nested, C1 (NEL),
 * U+2028/2029, between printable text (never at an end, where an INI reader trims it away).
 */
const x2goBreak = fc
  .tuple(
    fc.string({ unit: char(0x21, 0x7e), maxLength: 8 }),
    fc.constantFrom("<br>", "<BR>", "<bR>", "<b<br>r>", "<<br>br>>", "\u0085", "\u2028", "\u2029"),
    fc.string({ unit: char(0x21, 0x7e), maxLength: 8 }),
  )
  .map(([before, breaker, after]) => `x${before}${breaker}${after}x`);


function kindOf(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

/** `body` as JSON with its member `key` (replaced if present) set to the JSON text `valueText`. */
function withMember(body: Record<string, unknown>, key: string, valueText: string): string {
  const { [key]: _replaced, ...rest } = body;
  const text = JSON.stringify(rest);
  const member = `${JSON.stringify(key)}:${valueText}`;
  return text === "{}" ? `{${member}}` : `{${member},${text.slice(1)}`;
}

/** The valid body with up to three of its string values replaced by hostile strings. */
export function noisyBody(valid: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const stringKeys = Object.keys(valid).filter((key) => typeof valid[key] === "string");
  if (stringKeys.length === 0) return fc.constant(valid);
  return fc.array(fc.tuple(fc.constantFrom(...stringKeys), hostileString), { maxLength: 3 }).map((changes) => ({ ...valid, ...Object.fromEntries(changes) }));
}

const extraKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", " ", "\u0000", "$where", "x".repeat(5000)),
  fc.string({ maxLength: 20 }).map((key) => `x-${key}`),
);

function notJson(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

const deepText = fc
  .tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) => (arrays ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "0" + "}".repeat(depth)));

/** Body flaws of a JSON route: each plan alone makes the body unacceptable. */
export function jsonBodyFlaws(spec: JsonBodySpec): Record<string, fc.Arbitrary<BodyPlan>> {
  const valid = spec.valid;
  const keys = Object.keys(valid);
  const validText = JSON.stringify(valid);
  const json = fc.constantFrom(...JSON_TYPES);
  const plan = (text: fc.Arbitrary<string>, replacements?: fc.Arbitrary<Array<[string, string]>>): fc.Arbitrary<BodyPlan> =>
    fc.tuple(text, json, replacements ?? fc.constant<Array<[string, string]>>([])).map(([t, contentType, r]) => ({ text: t, contentType, replacements: r }));
  const noisy = noisyBody(valid);
  const flaws: Record<string, fc.Arbitrary<BodyPlan>> = {
    "malformed JSON": plan(
      fc.oneof(
        fc.nat().map((n) => validText.slice(0, n % validText.length)),
        fc.constantFrom("}", ",", "x", "]", "{", '"', "/*", "//", "\u0000").map((tail) => validText + tail),
        fc.string({ maxLength: 60 }).filter(notJson),
        fc.constantFrom(
          "{'login':'x'}", "{login: 1}", '{"a":NaN}', '{"a":1,}', "[1,]", '{"a":01}', '{"a":"\u0001"}', '{"a":"\\x41"}', '{"a":1}{"b":2}',
          '"unterminated', '{"a":Infinity}', '{"a":undefined}', '{"a":-}', '{"a":.5}', '{"a":0x10}', "", " ", "\ufeff",
        ),
        fc.constant(`{${BAD_UTF8}}`),
      ),
    ),
    "a body that is not an object": plan(
      fc.oneof(
        fc.constantFrom("null", "true", "false", "0", "-1", '"x"', "[]", "[{}]", "1e999"),
        fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }).map((value) => JSON.stringify(value)),
        fc.string({ maxLength: 30 }).map((value) => JSON.stringify(value)),
      ),
    ),
    "an unknown extra field": plan(
      fc.tuple(noisy, extraKey, fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileString)).map(([body, key, value]) => withMember(body, key, JSON.stringify(value))),
    ),
    "a huge array": plan(
      fc
        .tuple(noisy, fc.oneof(fc.constantFrom(...keys, "x-huge"), extraKey), fc.integer({ min: 1001, max: 20_000 }), fc.constantFrom(0, "x", null, {}))
        .map(([body, key, length, item]) => withMember(body, key, JSON.stringify(Array.from({ length }, () => item)))),
    ),
    "a huge string": plan(
      fc
        .tuple(noisy, fc.oneof(fc.constantFrom(...keys, "x-huge"), extraKey), fc.integer({ min: 70_000, max: 300_000 }))
        .map(([body, key, length]) => withMember(body, key, JSON.stringify("A".repeat(length)))),
    ),
    "deep nesting": plan(
      fc.tuple(noisy, fc.constantFrom(...(spec.jsonRecord ? [spec.jsonRecord] : []), ...keys, "x-deep")).map(([body, key]) => {
        const deep = key === spec.jsonRecord ? { k: "@@DEEP@@" } : "@@DEEP@@";
        return withMember(body, key, JSON.stringify(deep));
      }),
      deepText.map((text) => [['"@@DEEP@@"', text]] as Array<[string, string]>),
    ),
    "an oversized body": plan(
      fc
        .tuple(noisy, fc.integer({ min: 1, max: 65_536 }))
        .map(([body, extra]) => withMember(body, "pad", JSON.stringify("p".repeat(spec.limitBytes + extra)))),
    ),
    "a content type that is not JSON": fc
      .tuple(noisy, fc.constantFrom<string | null>(...NOT_JSON_TYPES, null))
      .map(([body, contentType]) => ({ text: JSON.stringify(body), contentType })),
  };
  if (spec.required.length > 0) {
    flaws["a missing required field"] = plan(
      fc.tuple(noisy, fc.constantFrom(...spec.required)).map(([body, key]) => {
        const { [key]: _dropped, ...rest } = body;
        return JSON.stringify(rest);
      }),
    );
  }
  if (keys.length > 0) {
    flaws["a field of the wrong type"] = plan(
      fc
        .tuple(noisy, fc.constantFrom(...keys))
        .chain(([body, key]) =>
          fc
            .jsonValue({ maxDepth: 2 })
            .filter((value) => kindOf(value) !== kindOf(valid[key]) && !(value === null && spec.nullable?.includes(key)))
            .map((value) => JSON.stringify({ ...body, [key]: value })),
        ),
    );
  }
  if (spec.x2goText && spec.x2goText.length > 0) {
    flaws["an X2Go line break in profile text"] = plan(
      fc.tuple(noisy, fc.constantFrom(...spec.x2goText), x2goBreak).map(([body, key, text]) => JSON.stringify({ ...body, [key]: text })),
    );
  }
  const numericKeys = keys.filter((key) => typeof valid[key] === "number");
  if (numericKeys.length > 0) {
    flaws["an infinite number"] = plan(
      fc.tuple(noisy, fc.constantFrom(...numericKeys)).map(([body, key]) => JSON.stringify({ ...body, [key]: "@@INFINITY@@" })),
      fc.constantFrom("1e999", "-1e999").map((number) => [['"@@INFINITY@@"', number]] as Array<[string, string]>),
    );
  }
  return flaws;
}

export function textBodyFlaws(spec: TextBodySpec): Record<string, fc.Arbitrary<BodyPlan>> {
  const flaws: Record<string, fc.Arbitrary<BodyPlan>> = {
    "a content type that is not text/plain": fc
      .tuple(hostileString, fc.constantFrom<string | null>("application/json", "application/x-www-form-urlencoded", "application/octet-stream", "text/html", null))
      .map(([text, contentType]) => ({ text: spec.valid + text, contentType })),
    "an oversized body": fc
      .integer({ min: 1, max: 65_536 })
      .map((extra) => ({ text: `${spec.valid}# ${"p".repeat(spec.limitBytes + extra)}\n`, contentType: spec.contentType })),
  };
  if (spec.x2goTextKey) {
    const key = spec.x2goTextKey;
    flaws["an X2Go line break in profile text"] = x2goBreak.map((text) => ({ text: `${spec.valid}${key}=${text}\n`, contentType: spec.contentType }));
  }
  return flaws;
}
