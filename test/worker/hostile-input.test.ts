/**
 * Hostile input: generated requests against every mounted route (enumerated from the app). API
 * and dashboard (and portal) cases each carry one flaw that alone must get them refused, plus noise that must
 * not matter; X2Go cases are anything at all. API cases answer 4xx with the JSON error envelope;
 * dashboard cases answer 4xx (the envelope when JSON is asked for, else a page) or, for a page
 * without a session, the redirect to sign-in; X2Go cases answer as x2gobroker does. Never a 5xx,
 * and no case changes D1 or any pool object. Case counts per route and in total are printed.
 */
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorEnvelopeSchema } from "../../src/protocol.ts";
import { admin, userToken } from "./helpers.ts";
import { type Fixture, PASSWORD, setUpFixture } from "./hostile/fixture.ts";
import { describeCase, hostileCases } from "./hostile/generators.ts";
import type { HostileCase } from "./hostile/primitives.ts";
import { mountedRoutes, pathOf, type RouteSpec, routeRoles, routeSpecs } from "./hostile/routes.ts";
import { sendCase } from "./hostile/send.ts";
import { expectNoLeak, secretsOf } from "./hostile/leaks.ts";
import { expectUnchanged, resetLoginFailures, type StateSnapshot, snapshotState } from "./hostile/snapshot.ts";
import { signInPath, uiCases, wantsJson } from "./hostile/ui-cases.ts";
import { x2goCases } from "./hostile/x2go-cases.ts";

/** Cases per route: enough to draw every flaw of a route several times, bounded for time. */
const RUNS = { api: 100, ui: 50, x2go: 100 };
/** A signed-in X2Go answer issues the chain's next cookie: the one change such a case may make. */
const X2GO_COOKIES = "x2go_cookies";

let fx: Fixture;
let specs: Map<string, RouteSpec>;
let baseline: StateSnapshot;
let baselineWithoutCookies: StateSnapshot;
let secrets: Set<string>;
const counts = new Map<string, number>();

beforeAll(async () => {
  fx = await setUpFixture();
  specs = routeSpecs(fx);
  baseline = await snapshotState();
  baselineWithoutCookies = await snapshotState({ ignore: [X2GO_COOKIES] });
  expect(baseline.d1[X2GO_COOKIES]).toEqual([]);
  secrets = await secretsOf(fx, baseline, "hashes");
  // A dashboard page shows its own session's CSRF token in its forms: not a leak.
  secrets.delete(fx.ui.csrf);
  secrets.delete(fx.portal.csrf);
});

afterAll(() => {
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  const lines = [...counts.entries()].map(([route, count]) => `  ${String(count).padStart(5)}  ${route}`);
  console.log(`hostile input: ${total} generated cases over ${counts.size} routes\n${lines.join("\n")}`);
});

function specFor(route: string): RouteSpec {
  const spec = specs.get(route);
  if (!spec) throw new Error(`no hostile-input spec for ${route}: add one to test/worker/hostile/routes.ts`);
  return spec;
}

/** Sends every generated case, checks each answer with `check`, and that nothing changed. */
async function attack(route: string, cases: fc.Arbitrary<HostileCase>, runs: number, check: (c: HostileCase, response: Response, text: string, what: string) => void) {
  let count = 0;
  await fc.assert(
    // Counterexamples print as `describeCase` does: bodies of a megabyte are cut.
    fc.asyncProperty(cases.map((c) => Object.assign(c, { [fc.toStringMethod]: () => describeCase(c) })), async (c) => {
      count++;
      await resetLoginFailures();
      const response = await sendCase(c, specFor(route), fx);
      const text = await response.text();
      const what = `${describeCase(c)} → ${response.status} ${text.slice(0, 300)}`;
      try {
        expect(response.status, what).toBeLessThan(500);
        check(c, response, text, what);
        expectNoLeak({ text, headers: response.headers }, describeCase(c, Number.POSITIVE_INFINITY), secrets, what);
        expectUnchanged(c.signsIn ? baselineWithoutCookies : baseline, await snapshotState(c.signsIn ? { ignore: [X2GO_COOKIES] } : {}), what);
      } finally {
        // The fixture signs nobody in over X2Go: whatever cookie the case was issued goes.
        if (c.signsIn) await env.DB.prepare(`DELETE FROM ${X2GO_COOKIES}`).run();
      }
    }),
    { numRuns: runs, endOnFailure: true },
  );
  counts.set(route, count);
}

function expectEnvelope(response: Response, text: string, what: string): void {
  expect(response.headers.get("Content-Type"), what).toMatch(/^application\/json/);
  expect(errorEnvelopeSchema.safeParse(JSON.parse(text)).success, what).toBe(true);
}

const routes = mountedRoutes();
const roles = routeRoles();
/** The generator a route's cases come from, by its role (a route without a spec fails as "api"). */
function suiteOf(route: string): "api" | "ui" | "x2go" {
  const role = roles.get(route);
  return role === "x2go" ? "x2go" : role === "ui" || role === "uiPublic" || role === "portal" || role === "portalPublic" ? "ui" : "api";
}
const byRole = (suite: string) => routes.filter((route) => suiteOf(route) === suite);

describe("hostile input", () => {
  it("has a spec for every mounted route, and no spec for a route that is gone", () => {
    expect(routes.filter((route) => !specs.has(route))).toEqual([]);
    expect([...specs.keys()].filter((route) => !routes.includes(route))).toEqual([]);
  });

  it.each(byRole("api"))("%s refuses every flawed request with a 4xx error envelope and changes nothing", async (route) => {
    const spec = specFor(route);
    await attack(route, hostileCases(spec, specs.values(), (overrides) => pathOf(spec, overrides)), RUNS.api, (_c, response, text, what) => {
      expect(response.status, what).toBeGreaterThanOrEqual(400);
      expectEnvelope(response, text, what);
    });
  }, 60_000);

  it.each(byRole("ui"))("%s refuses every flawed dashboard request (4xx, or the sign-in redirect for a page) and changes nothing", async (route) => {
    const spec = specFor(route);
    await attack(route, uiCases(spec, specs.values(), (overrides) => pathOf(spec, overrides)), RUNS.ui, (c, response, text, what) => {
      const signInRedirect = response.status === 303 && response.headers.get("Location") === signInPath(spec);
      if (signInRedirect) {
        expect(c.flaw === "a missing or forged session" || c.flaw === "a page that does not exist" || c.flaw === "a method the path does not serve", what).toBe(true);
        expect(["GET", "HEAD", "OPTIONS"], what).toContain(c.method);
        return;
      }
      expect(response.status, what).toBeGreaterThanOrEqual(400);
      // A refused sign-in is the sign-in page again, whatever the caller accepts.
      if (wantsJson(c) && spec.pattern !== "/admin/login" && spec.pattern !== "/portal/login") expectEnvelope(response, text, what);
      else if (!response.headers.get("Content-Type")?.startsWith("text/html")) expectEnvelope(response, text, what);
    });
  }, 60_000);

  it.each(byRole("x2go"))("%s answers every hostile X2Go request without a 5xx and changes nothing but the cookie it issues", async (route) => {
    await attack(route, x2goCases(specFor(route).pattern, "alice", PASSWORD), RUNS.x2go, (_c, response, text, what) => {
      if (response.status >= 400) expect(text, what).not.toMatch(/"error"\s*:/);
    });
  }, 60_000);
});

describe("hostile input: cases that once reached a 5xx or a change", () => {
  it("refuses a JSON body nested deeper than the limit with 400 instead of overflowing the stack", async () => {
    // A user of its own: the generated cases above spend the fixture users' session-start rate limit.
    const token = await userToken("hx-deep", [], PASSWORD);
    const before = await snapshotState();
    const deep = `${"[".repeat(50_000)}${"]".repeat(50_000)}`;
    try {
      const response = await sendRaw("/v1/sessions", "POST", `{"profileId":"hx-desk","data":{"k":${deep}}}`, { Authorization: `Bearer ${token}`, "Content-Type": "application/json" });
      expect(response.status).toBe(400);
      expectUnchanged(before, await snapshotState(), "a deeply nested body");
    } finally {
      expect((await admin("/v1/admin/users/hx-deep", "DELETE")).status).toBe(204);
    }
  });

  it("refuses a body not declared as JSON with 415 instead of validating it as {}", async () => {
    const response = await sendRaw(`/v1/admin/pools/hx/enrolment-tokens`, "POST", `{"ttlSeconds":600}`, { Authorization: `Bearer ${fx.root}`, "Content-Type": "text/plain" });
    expect(response.status).toBe(415);
    expectUnchanged(baseline, await snapshotState(), "an enrolment-token request in text/plain");
  });

  it("serves error envelopes as application/json", async () => {
    const response = await sendRaw("/v1/admin/pools", "GET", null, {});
    expect(response.status).toBe(401);
    expectEnvelope(response, await response.text(), "a refused admin call");
  });
});

function sendRaw(path: string, method: string, body: string | null, headers: Record<string, string>): Promise<Response> {
  return exports.default.fetch(new Request(`https://broker.test${path}`, { method, headers, ...(body === null ? {} : { body }) }));
}
