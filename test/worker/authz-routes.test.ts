/**
 * Authorisation, route by route: every protected route (enumerated from the app) gets a request
 * it would accept from the right caller, presented instead with every credential that must not
 * open it (none, garbage, a user where an admin is needed, a node key where a user is needed,
 * another node's key, tokens expired, not yet valid, for another audience, in another algorithm,
 * re-signed with a foreign or confused key, tampered). Each is refused (401, or 403 for a genuine
 * identity without the right), changes nothing, and leaks nothing.
 */
import { exports } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorEnvelopeSchema } from "../../src/protocol.ts";
import { ADMIN_UI_COOKIE } from "../../src/ui/session.ts";
import { PORTAL_COOKIE } from "../../src/portal/session.ts";
import { sampleBody } from "./helpers.ts";
import { type Credential, CREDENTIALS } from "./hostile/credentials.ts";
import { type Fixture, setUpFixture, UI_ORIGIN } from "./hostile/fixture.ts";
import { expectNoLeak, secretsOf } from "./hostile/leaks.ts";
import { isTicketRole, mountedRoutes, pathOf, PROTECTED_ROLES, type RouteSpec, routeRoles, routeSpecs } from "./hostile/routes.ts";
import { expectUnchanged, type StateSnapshot, snapshotState } from "./hostile/snapshot.ts";

let fx: Fixture;
let specs: Map<string, RouteSpec>;
let baseline: StateSnapshot;
let secrets: Set<string>;
const counts = new Map<string, number>();

beforeAll(async () => {
  fx = await setUpFixture();
  specs = routeSpecs(fx);
  baseline = await snapshotState();
  secrets = await secretsOf(fx, baseline);
});

afterAll(() => {
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  console.log(`authorisation: ${total} refused calls over ${counts.size} protected routes (${CREDENTIALS.length} credentials tried on each where they do not grant access)`);
});

interface Attempt {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

/** The request `spec` accepts from its rightful caller, minus the credential. */
function rightfulRequest(spec: RouteSpec): Attempt {
  const method = spec.method === "ALL" ? "GET" : spec.method;
  const path = spec.method === "ALL" ? `${spec.pattern.slice(0, -"/*".length)}/zz-missing` : pathOf(spec);
  const query = new URLSearchParams(spec.query.valid).toString();
  const headers: Record<string, string> = {};
  let text: string | null = null;
  if (spec.role === "node") text = JSON.stringify(sampleBody());
  else if (spec.body?.kind === "json") text = JSON.stringify(spec.body.valid);
  else if (spec.body?.kind === "text") text = spec.body.valid;
  else if ((spec.role === "ui" || spec.role === "portal") && method === "POST") text = "confirmed=yes";
  const form = (spec.role === "ui" || spec.role === "portal") && spec.body === undefined;
  if (text !== null) headers["Content-Type"] = spec.body?.kind === "text" ? spec.body.contentType : form ? "application/x-www-form-urlencoded" : "application/json";
  return { method, url: `https://broker.test${path}${query ? `?${query}` : ""}`, headers, body: text === null ? null : new TextEncoder().encode(text) };
}

/** Puts `token` where `spec`'s role reads its credential. */
function present(spec: RouteSpec, attempt: Attempt, token: string | null): Attempt {
  const headers = { ...attempt.headers };
  let url = attempt.url;
  if (isTicketRole(spec.role)) {
    Object.assign(headers, { Upgrade: "websocket", Connection: "Upgrade" });
    if (token !== null) url += `${url.includes("?") ? "&" : "?"}ticket=${encodeURIComponent(token)}`;
  } else if (spec.role === "nodeChannel") {
    Object.assign(headers, { Upgrade: "websocket", Connection: "Upgrade" });
    if (token !== null) headers["Authorization"] = `Bearer ${token}`;
  } else if (spec.role === "ui") {
    Object.assign(headers, { Origin: UI_ORIGIN, "X-CSRF-Token": fx.ui.csrf, Accept: "application/json" });
    if (token !== null) headers["Cookie"] = `${ADMIN_UI_COOKIE}=${token}`;
  } else if (spec.role === "portal") {
    Object.assign(headers, { Origin: UI_ORIGIN, "X-CSRF-Token": fx.portal.csrf, Accept: "application/json" });
    if (token !== null) headers["Cookie"] = `${PORTAL_COOKIE}=${token}`;
  } else if (token !== null) {
    headers["Authorization"] = `Bearer ${token}`;
  }
  return { ...attempt, url, headers };
}

async function expectRefused(attempt: Attempt, status: number, what: string): Promise<void> {
  const response = await exports.default.fetch(new Request(attempt.url, { method: attempt.method, headers: attempt.headers, redirect: "manual", ...(attempt.body ? { body: attempt.body } : {}) }));
  const text = await response.text();
  const detail = `${what} → ${response.status} ${text.slice(0, 200)}`;
  expect(response.status, detail).toBe(status);
  expect(response.headers.get("Content-Type"), detail).toMatch(/^application\/json/);
  const envelope = errorEnvelopeSchema.strict().safeParse(JSON.parse(text));
  expect(envelope.success && Object.keys(envelope.data.error).every((key) => ["code", "message", "requestId"].includes(key)), detail).toBe(true);
  const request = `${attempt.url}\n${JSON.stringify(attempt.headers)}\n${attempt.body ? new TextDecoder().decode(attempt.body) : ""}`;
  expectNoLeak({ text, headers: response.headers }, request, secrets, what);
  expectUnchanged(baseline, await snapshotState(), what);
}

const roles = routeRoles();
const protectedRoutes = mountedRoutes().filter((route) => PROTECTED_ROLES.includes(roles.get(route) ?? "public"));

describe("authorisation", () => {
  it("finds protected routes of every kind", () => {
    expect(new Set(protectedRoutes.map((route) => roles.get(route)))).toEqual(new Set(PROTECTED_ROLES));
  });

  it.each(protectedRoutes)("%s refuses every credential that does not grant it, and changes and leaks nothing", async (route) => {
    const spec = specs.get(route);
    if (!spec) throw new Error(`no spec for ${route}`);
    const rightful = rightfulRequest(spec);
    const tried = CREDENTIALS.filter((credential: Credential) => !credential.validFor.includes(spec.role));
    for (const credential of tried) {
      const token = await credential.make({ fx, body: rightful.body ?? new Uint8Array() });
      await expectRefused(present(spec, rightful, token), credential.status?.[spec.role] ?? 401, `${route} with ${credential.name}`);
    }
    let count = tried.length;
    if ((spec.role === "ui" || spec.role === "portal") && rightful.method !== "GET") {
      const own = spec.role === "ui" ? fx.ui.cookie : fx.portal.cookie;
      const signedIn = present(spec, rightful, own.slice(own.indexOf("=") + 1));
      const { "X-CSRF-Token": _csrf, ...withoutCsrf } = signedIn.headers;
      await expectRefused({ ...signedIn, headers: withoutCsrf }, 403, `${route} signed in without the CSRF token`);
      await expectRefused({ ...signedIn, headers: { ...signedIn.headers, "X-CSRF-Token": "W".repeat(43) } }, 403, `${route} signed in with a wrong CSRF token`);
      await expectRefused({ ...signedIn, headers: { ...signedIn.headers, Origin: "https://evil.example" } }, 403, `${route} signed in from another origin`);
      count += 3;
    }
    counts.set(route, count);
  }, 60_000);
});
