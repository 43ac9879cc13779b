/**
 * Hostile requests against the admin dashboard (`/admin`) and the user's portal (`/`, `/portal/`,
 * the same session machinery on its own cookie), each with one named flaw: no or a
 * forged session cookie, a cross-site change, a missing or wrong CSRF token, a bad path or query
 * parameter, an oversized form, a method or page that does not exist, a sign-in that does not
 * hold. Noise: random form fields, `Accept` headers that ask for JSON or HTML, junk queries.
 */
import fc from "fast-check";
import {
  type BodyPlan,
  encodePiece,
  type HostileCase,
  hostileString,
  INVALID_UTF8,
  invalidFor,
  junkQuery,
  noiseHeaders,
  type UiCredentialPlan,
  type UiOriginPlan,
  type UiSessionPlan,
} from "./primitives.ts";
import { METHODS_TRIED, type RouteSpec, unservedMethods } from "./routes.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
/** The dashboard's form limit (src/routes/admin-ui.ts). */
const MAX_FORM_BYTES = 1024 * 1024;

const formFields = fc.array(fc.tuple(fc.oneof(fc.constantFrom("method", "token", "login", "password", "confirmed", "name", "policy", "pool", "ttlSeconds", "profile", "_csrf"), hostileString), hostileString), { maxLength: 6 });

function formBody(fields: Array<[string, string]>): BodyPlan {
  return { text: new URLSearchParams(fields.map(([key, value]) => [encodePiece(key), value])).toString(), contentType: "application/x-www-form-urlencoded" };
}

/** Whether the dashboard or the portal answers this request in JSON (their `wantsJson`). */
export function wantsJson(c: HostileCase): boolean {
  return c.path.startsWith("/admin/api/") || c.path.startsWith("/portal/api/") || /\bapplication\/json\b/.test(c.headers["Accept"] ?? "");
}

/** Where a page without a session is sent: the face's sign-in. */
export function signInPath(spec: RouteSpec): string {
  return spec.role === "portal" || spec.role === "portalPublic" ? "/" : "/admin/login";
}

export function uiCases(spec: RouteSpec, routes: Iterable<RouteSpec>, validPath: (overrides?: Record<string, string>) => string): fc.Arbitrary<HostileCase> {
  const isPublic = spec.role === "uiPublic" || spec.role === "portalPublic";
  const catchAll = spec.method === "ALL";
  const valid: UiCredentialPlan = { kind: "ui", session: isPublic ? "none" : "valid", csrf: isPublic ? "none" : "valid", origin: "same" };
  const methods = catchAll ? METHODS_TRIED : [spec.method];
  const validQuery = Object.entries(spec.query.valid).map(([key, value]) => `${key}=${encodeURIComponent(value)}`);

  type Parts = { flaw: string; method: string; path: string; query: string[]; credential: UiCredentialPlan; fields: Array<[string, string]>; body?: BodyPlan };
  const base = fc.tuple(fc.constantFrom(...methods), formFields).map(([method, fields]): Parts => ({ flaw: "", method, path: validPath(), query: validQuery, credential: valid, fields }));
  const flaws: Record<string, fc.Arbitrary<Parts>> = {};
  const changes = !catchAll && SAFE.has(spec.method) ? [] : methods.filter((method) => !SAFE.has(method));

  if (!isPublic) {
    flaws["a missing or forged session"] = fc
      .tuple(base, fc.constantFrom<UiSessionPlan>("none", "garbage", "foreign-key", "user-bearer-token", "admin-token"))
      .map(([parts, session]) => ({ ...parts, flaw: "a missing or forged session", credential: { ...valid, session } }));
  }
  if (changes.length > 0) {
    flaws["a cross-site change"] = fc
      .tuple(base, fc.constantFrom(...changes), fc.constantFrom<UiOriginPlan>("none", "foreign", "null", "cross-site-fetch"))
      .map(([parts, method, origin]) => ({ ...parts, method, flaw: "a cross-site change", credential: { ...valid, origin } }));
    flaws["an oversized form"] = fc
      .tuple(base, fc.constantFrom(...changes), fc.integer({ min: 1, max: 65_536 }))
      .map(([parts, method, extra]) => ({ ...parts, method, flaw: "an oversized form", body: formBody([...parts.fields, ["pad", "p".repeat(MAX_FORM_BYTES + extra)]]) }));
    if (!isPublic) {
      flaws["a missing or wrong CSRF token"] = fc
        .tuple(base, fc.constantFrom(...changes), fc.constantFrom<"none" | "wrong">("none", "wrong"))
        .map(([parts, method, csrf]) => ({ ...parts, method, flaw: "a missing or wrong CSRF token", credential: { ...valid, csrf } }));
    }
  }
  const paramNames = Object.keys(spec.params);
  if (paramNames.length > 0) {
    flaws["a bad path parameter"] = fc
      .tuple(base, fc.constantFrom(...paramNames).chain((name) => fc.tuple(fc.constant(name), invalidFor(spec.params[name]!.schema))))
      .map(([parts, [name, value]]) => ({ ...parts, flaw: "a bad path parameter", path: validPath({ [name]: encodePiece(value) }) }));
  }
  const queryNames = Object.keys(spec.query.schemas);
  if (queryNames.length > 0) {
    flaws["a bad query parameter"] = fc
      .tuple(base, fc.constantFrom(...queryNames).chain((name) => fc.tuple(fc.constant(name), invalidFor(spec.query.schemas[name]!))))
      .map(([parts, [name, value]]) => ({ ...parts, flaw: "a bad query parameter", query: [...parts.query.filter((piece) => !piece.startsWith(`${name}=`)), `${name}=${encodePiece(value)}`] }));
  }
  const wrongMethods = catchAll ? [] : unservedMethods(routes, validPath());
  if (wrongMethods.length > 0) {
    flaws["a method the path does not serve"] = fc.tuple(base, fc.constantFrom(...wrongMethods)).map(([parts, method]) => ({ ...parts, method, flaw: "a method the path does not serve" }));
  }
  if (catchAll) {
    flaws["a page that does not exist"] = fc
      .tuple(base, fc.array(hostileString.filter((segment) => segment !== "." && segment !== ".." && segment !== ""), { minLength: 1, maxLength: 3 }))
      .map(([parts, segments]) => ({ ...parts, flaw: "a page that does not exist", path: `${spec.pattern.slice(0, -"/*".length)}/zz-${segments.map(encodePiece).join("/")}` }));
  }
  if (spec.method === "POST" && (spec.pattern === "/admin/login" || spec.pattern === "/portal/login")) {
    const attempt = fc.oneof(
      fc.tuple(hostileString).map(([token]): Array<[string, string]> => [["method", "token"], ["token", token]]),
      fc.tuple(fc.constantFrom("alice", "root", "nobody"), hostileString).map(([login, password]): Array<[string, string]> => [["method", "password"], ["login", login], ["password", password]]),
      fc.constant<Array<[string, string]>>([["method", "access"]]),
      formFields,
    );
    flaws["a sign-in that does not hold"] = fc.tuple(base, attempt).map(([parts, fields]) => ({ ...parts, flaw: "a sign-in that does not hold", fields }));
  }

  const accept = fc.option(fc.constantFrom("application/json", "text/html", "*/*", "text/html, application/json;q=0.9"), { nil: undefined });
  return fc
    .constantFrom(...Object.keys(flaws))
    .chain((name) => fc.tuple(flaws[name]!, junkQuery([...queryNames, "notice"]), noiseHeaders, accept, fc.constantFrom(...INVALID_UTF8)))
    .map(([parts, junk, headers, acceptHeader, badBytes]) => {
      const { Cookie: _cookie, ...rest } = headers;
      return {
        flaw: parts.flaw,
        method: parts.method,
        path: parts.path,
        query: [...parts.query, ...junk].join("&"),
        headers: { ...rest, ...(acceptHeader ? { Accept: acceptHeader } : {}) },
        credential: parts.credential,
        body: SAFE.has(parts.method) ? null : (parts.body ?? formBody(parts.fields)),
        badBytes,
      };
    });
}
