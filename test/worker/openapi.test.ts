/**
 * `/openapi.json` covers exactly the routes the app serves, and `/docs` serves its reference page
 * from the Worker itself. (The document's validity as OpenAPI 3.1 is test/node/openapi.test.ts:
 * the validator compiles schemas with `new Function`, which workerd forbids.)
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { call } from "./helpers.ts";

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown> };
}

async function document(): Promise<Doc> {
  const response = await call("/openapi.json");
  expect(response.status).toBe(200);
  return (await response.json()) as Doc;
}

/** `METHOD /path/{param}` of every route the app registers (middleware, method ALL, left out). */
function appRoutes(): Set<string> {
  return new Set(
    createApp()
      .routes.filter((route) => route.method !== "ALL")
      .map((route) => `${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`),
  );
}

function documented(doc: Doc): Set<string> {
  return new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`)));
}

function refsOf(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsOf(item, found);
  else if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      if (key === "$ref" && typeof child === "string") found.push(child);
      else refsOf(child, found);
    }
  }
  return found;
}

describe("GET /openapi.json", () => {
  it("answers without credentials with an OpenAPI 3.1 document", async () => {
    const doc = await document();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
  });

  it("documents every /v1/ route the app registers", async () => {
    const listed = documented(await document());
    const missing = [...appRoutes()].filter((route) => route.includes(" /v1/") && !listed.has(route));
    expect(missing).toEqual([]);
  });

  it("documents no route the app does not serve", async () => {
    const served = appRoutes();
    expect([...documented(await document())].filter((route) => !served.has(route))).toEqual([]);
  });

  it("resolves every $ref to a component", async () => {
    const doc = await document();
    const refs = refsOf(doc.paths).concat(refsOf(doc.components));
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((ref) => !(ref.replace("#/components/schemas/", "") in doc.components.schemas))).toEqual([]);
  });

  it("gives every operation its security and the error envelope", async () => {
    const doc = await document();
    for (const item of Object.values(doc.paths)) {
      for (const operation of Object.values(item)) {
        expect(Array.isArray(operation.security)).toBe(true);
        expect(operation.responses.default).toEqual(expect.objectContaining({ content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } }));
      }
    }
    expect(doc.paths["/v1/admin/pools/{pool}/import"]?.post?.security).toContainEqual({ adminToken: [] });
    expect(doc.paths["/v1/agent/heartbeat"]?.post?.security).toEqual([{ nodeJwt: [] }]);
  });

  it("holds no secret of the deployment", async () => {
    const text = await (await call("/openapi.json")).text();
    for (const secret of [env.ADMIN_TOKEN, env.SIGNING_KEY]) {
      expect(secret).toBeTruthy();
      expect(text).not.toContain(secret);
    }
  });
});

describe("GET /docs", () => {
  it("serves a page that loads its renderer from the Worker, under a strict CSP", async () => {
    const response = await call("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    const csp = response.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    const page = await response.text();
    const sources = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? "");
    expect(sources.length).toBeGreaterThanOrEqual(3);
    // Everything from this origin (or inline data): no CDN.
    for (const source of sources) expect(/^(\/[^/]|data:)/.test(source), source).toBe(true);
  });

  it("serves the renderer and its styles as static assets, and the start-up script from the Worker", async () => {
    const bundle = await env.ASSETS.fetch("https://broker.test/docs/swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("Content-Type")).toMatch(/^(text|application)\/javascript/);
    expect(await bundle.text()).toContain("SwaggerUIBundle");
    const css = await env.ASSETS.fetch("https://broker.test/docs/swagger-ui.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("Content-Type")).toMatch(/^text\/css/);
    // Not in the Worker script: the Worker itself does not know them.
    expect((await call("/docs/swagger-ui-bundle.js")).status).toBe(404);
    const init = await call("/docs/init.js");
    expect(await init.text()).toContain('"/openapi.json"');
  });

  it("answers 404 in the envelope for an unknown file", async () => {
    const response = await call("/docs/nope.js");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});
