/**
 * Hostile API requests: each carries exactly one named flaw that alone must make the broker
 * refuse it (a missing or forged credential, a method the path does not serve, a bad path or
 * query parameter, a body flaw from body-flaws.ts) plus noise that must not matter (control
 * characters, unicode and invalid UTF-8 in string values, junk query parameters, odd headers).
 */
import fc from "fast-check";
import { jsonBodyFlaws, noisyBody, textBodyFlaws } from "./body-flaws.ts";
import { type BodyPlan, type CredentialPlan, char, encodePiece, type HostileCase, hostileString, INVALID_UTF8, invalidFor, junkQuery, noiseHeaders } from "./primitives.ts";
import { isTicketRole, type RouteSpec, type TextBodySpec, unservedMethods } from "./routes.ts";

const junkBytes: fc.Arbitrary<BodyPlan> = fc.uint8Array({ maxLength: 512 }).map((raw) => ({ text: "", raw, contentType: null }));

function credentialFlaws(spec: RouteSpec): fc.Arbitrary<CredentialPlan> | null {
  if (spec.role === "public" || spec.role === "x2go") return null;
  const header = fc.oneof(
    fc.constant("Bearer"),
    fc.string({ unit: char(0x21, 0x7e), minLength: 1, maxLength: 200 }).map((garbage) => `Bearer ${garbage}`),
    fc.integer({ min: 4097, max: 9000 }).map((n) => `Bearer ${"t".repeat(n)}`),
    fc.string({ unit: char(0x21, 0x7e), maxLength: 40 }).map((garbage) => `Basic ${garbage}`),
    fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map(([a, b, c]) => `Bearer ${a}.${b}.${c}`.replaceAll("=", "")),
  );
  const plans: Array<fc.Arbitrary<CredentialPlan>> = [fc.constant({ kind: "none" }), header.map((value) => ({ kind: "header" as const, value }))];
  if (spec.role === "node" || spec.role === "nodeRekey" || spec.role === "nodeChannel") plans.push(fc.constant({ kind: "foreign-beat" }), fc.constant({ kind: "unsigned-beat" }));
  if (isTicketRole(spec.role)) plans.push(fc.constant({ kind: "ticket-for-other-server" }));
  return fc.oneof(...plans);
}

/** Hostile requests against one API route, each with exactly one flaw (named in `flaw`). */
export function hostileCases(spec: RouteSpec, routes: Iterable<RouteSpec>, validPath: (overrides?: Record<string, string>) => string): fc.Arbitrary<HostileCase> {
  const reserved = [...Object.keys(spec.query.schemas), "ticket"];
  const validQuery = Object.entries(spec.query.valid).map(([key, value]) => `${key}=${encodeURIComponent(value)}`);
  const bodyFlaws = spec.body ? (spec.body.kind === "json" ? jsonBodyFlaws(spec.body) : textBodyFlaws(spec.body)) : {};
  const validBody: fc.Arbitrary<BodyPlan | null> = !spec.body
    ? fc.option(junkBytes, { freq: 2 })
    : spec.body.kind === "json"
      ? noisyBody(spec.body.valid).map((body) => ({ text: JSON.stringify(body), contentType: "application/json" }))
      : hostileString.map((text) => ({ text: (spec.body as TextBodySpec).valid + text, contentType: (spec.body as TextBodySpec).contentType }));

  type Parts = Pick<HostileCase, "flaw" | "method" | "path" | "credential" | "body"> & { query: string[] };
  const base: Parts = { flaw: "", method: spec.method, path: validPath(), credential: { kind: "valid" }, body: null, query: validQuery };
  const flaws: Record<string, fc.Arbitrary<Parts>> = {};
  for (const [name, arb] of Object.entries(bodyFlaws)) flaws[name] = arb.map((body) => ({ ...base, flaw: name, body }));
  const credential = credentialFlaws(spec);
  if (credential) {
    flaws["a missing or forged credential"] = fc.tuple(credential, validBody).map(([plan, body]) => ({ ...base, flaw: "a missing or forged credential", credential: plan, body }));
  }
  const wrongMethods = unservedMethods(routes, validPath());
  if (wrongMethods.length > 0) {
    flaws["a method the path does not serve"] = fc
      .tuple(fc.constantFrom(...wrongMethods), validBody)
      .map(([method, body]) => ({ ...base, flaw: "a method the path does not serve", method, body }));
  }
  const paramNames = Object.keys(spec.params);
  if (paramNames.length > 0) {
    flaws["a bad path parameter"] = fc
      .constantFrom(...paramNames)
      .chain((name) => fc.tuple(fc.constant(name), invalidFor(spec.params[name]!.schema), validBody))
      .map(([name, value, body]) => ({ ...base, flaw: "a bad path parameter", path: validPath({ [name]: encodePiece(value) }), body }));
  }
  const queryNames = Object.keys(spec.query.schemas);
  if (queryNames.length > 0) {
    flaws["a bad query parameter"] = fc
      .constantFrom(...queryNames)
      .chain((name) =>
        fc.tuple(
          fc.constant(name),
          fc.oneof(
            invalidFor(spec.query.schemas[name]!).map((value) => [`${name}=${encodePiece(value)}`]),
            fc.constant([`${name}=${encodeURIComponent(spec.query.valid[name] ?? "true")}`, `${name}=${encodeURIComponent(spec.query.valid[name] ?? "true")}`]),
          ),
          validBody,
        ),
      )
      .map(([name, pieces, body]) => ({ ...base, flaw: "a bad query parameter", query: [...validQuery.filter((piece) => !piece.startsWith(`${name}=`)), ...pieces], body }));
  }
  if (isTicketRole(spec.role) || spec.role === "nodeChannel") flaws["no WebSocket upgrade"] = validBody.map((body) => ({ ...base, flaw: "no WebSocket upgrade", body }));

  return fc
    .constantFrom(...Object.keys(flaws))
    .chain((name) => fc.tuple(flaws[name]!, junkQuery(reserved), noiseHeaders, fc.constantFrom(...INVALID_UTF8)))
    .map(([parts, junk, headers, badBytes]) => ({
      flaw: parts.flaw,
      method: parts.method,
      path: parts.path,
      query: [...parts.query, ...junk].join("&"),
      headers,
      credential: parts.credential,
      body: parts.method === "GET" || parts.method === "HEAD" ? null : parts.body,
      badBytes,
    }));
}

/** A short description of a case for failure messages (long values cut). */
export function describeCase(c: HostileCase, maxLength = 160): string {
  const cut = (value: string) => (value.length > maxLength ? `${value.slice(0, maxLength)}… (${value.length} chars)` : value);
  return JSON.stringify({
    flaw: c.flaw,
    method: c.method,
    path: cut(c.path),
    query: cut(c.query),
    credential: c.credential.kind === "header" ? { kind: "header", value: cut(c.credential.value) } : c.credential,
    contentType: c.body?.contentType,
    body: c.body ? cut(c.body.text) : null,
    headers: Object.fromEntries(Object.entries(c.headers).map(([key, value]) => [key, cut(value)])),
  });
}
