/**
 * The broker's routes as the hostile suites see them: enumerated from the app itself (so a new
 * route without a spec fails the suites), each with the credential it needs and one valid
 * request, whose parts the generators then break one at a time.
 */
import { inspectRoutes } from "hono/dev";
import { z } from "zod";
import { createApp } from "../../../src/app.ts";
import { DOCS_ASSETS } from "../../../src/openapi/assets.ts";
import { profileIdSchema } from "../../../src/profiles/profile-schema.ts";
import { MAX_HEARTBEAT_BODY_BYTES, poolNameSchema, serverIdSchema } from "../../../src/protocol.ts";
import { SORT_KEYS } from "../../../src/ui/server-model.ts";
import { loginSchema } from "../../../src/users/users.ts";
import { portalSessionParamSchema } from "../../../src/portal/api.ts";
import { anyLoginParam } from "../../../src/routes/users.ts";
import { queueQuerySchema } from "../../../src/routes/queue.ts";
import { queueEntryParam } from "../../../src/routes/queue-admin.ts";
import { queueIdSchema } from "../../../src/sessions/wait-line.ts";
import { sampleBody } from "../helpers.ts";
import { BOB_SESSION_ID, type Fixture, POOL, PROFILE_ID } from "./fixture.ts";

/**
 * What a route accepts as proof of who calls: nothing (`public`), the admin bearer secret or an
 * admin user (`admin`), the admin bearer secret only (`adminToken`), any user (`user`), a node's
 * signed heartbeat JWT (`node`), re-key JWT (`nodeRekey`) or channel-upgrade JWT (`nodeChannel`), a relay ticket (`ticket`), a service ticket
 * (`serviceTicket`), a broker session token only (`session`: refresh), X2Go's form credentials (`x2go`), the
 * dashboard's session cookie and CSRF token (`ui`), or nothing on a dashboard page (`uiPublic`),
 * the portal's session cookie and CSRF token (`portal`), or nothing on a portal page (`portalPublic`).
 */
export type Role = "public" | "admin" | "adminToken" | "user" | "session" | "node" | "nodeRekey" | "nodeChannel" | "ticket" | "serviceTicket" | "x2go" | "ui" | "uiPublic" | "portal" | "portalPublic";

/** Roles whose credential is a ticket in the query or the `broker-ticket.` subprotocol of a WebSocket upgrade. */
export function isTicketRole(role: Role): role is "ticket" | "serviceTicket" {
  return role === "ticket" || role === "serviceTicket";
}

export interface JsonBodySpec {
  kind: "json";
  valid: Record<string, unknown>;
  /** Keys whose removal alone makes the body invalid. */
  required: string[];
  /** Keys that accept null (a null there is not a wrong type). */
  nullable?: string[];
  /** A `z.json()` record, where deeply nested values are otherwise valid. */
  jsonRecord?: string;
  /** Keys of profile text that reaches X2Go clients, where a `<br>` or a line break alone is refused. */
  x2goText?: string[];
  limitBytes: number;
}

export interface TextBodySpec {
  kind: "text";
  valid: string;
  contentType: string;
  /** A profile key whose value reaches X2Go clients, appended to `valid` with a `<br>` or line break. */
  x2goTextKey?: string;
  limitBytes: number;
}

export interface RouteSpec {
  key: string;
  method: string;
  pattern: string;
  role: Role;
  /** Path parameters: a value the route accepts, and the schema a broken value must fail. */
  params: Record<string, { valid: string; schema: z.ZodType }>;
  /** Query parameters the route reads, with values it accepts. */
  query: { valid: Record<string, string>; schemas: Record<string, z.ZodType> };
  body?: JsonBodySpec | TextBodySpec;
}

export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_IMPORT_BYTES = 256 * 1024;
/** The portal's body limit (src/portal/routes.tsx). */
export const PORTAL_BODY_BYTES = 16 * 1024;

/** `METHOD /path` of every route handler (middleware entries excluded), as mounted. */
export function mountedRoutes(): string[] {
  const keys = inspectRoutes(createApp())
    .filter((route) => !route.isMiddleware)
    .map((route) => `${route.method} ${route.path}`);
  return [...new Set(keys)];
}

type PartialSpec = Omit<RouteSpec, "key" | "method" | "pattern" | "params" | "query"> & {
  params?: RouteSpec["params"];
  query?: RouteSpec["query"];
};

const poolParam = { pool: { valid: POOL, schema: poolNameSchema } };
const serverParams = (fx: Fixture) => ({ ...poolParam, serverId: { valid: fx.nodeB.serverId, schema: serverIdSchema } });
const loginParam = { login: { valid: "bob", schema: loginSchema } };
const profileParam = { id: { valid: PROFILE_ID, schema: profileIdSchema } };
/** A well-formed place nobody holds (the suites check refusals, not the answer to a valid request). */
const QUEUE_ENTRY_ID = "wq_AAAAAAAAAAAAAAAAAAAA";
const queueParam = { queueId: { valid: `${POOL}.${QUEUE_ENTRY_ID}`, schema: queueIdSchema } };
const notice = { valid: {}, schemas: { notice: z.string().max(32) } };
const sort = { sort: z.enum(SORT_KEYS), dir: z.enum(["asc", "desc"]) };
const uiPoolQuery = { valid: { pool: POOL }, schemas: { pool: z.union([poolNameSchema, z.literal("")]) } };
const docsFile = [...DOCS_ASSETS.keys()].find((name) => name !== "") ?? "x";
const json = (valid: Record<string, unknown>, required: string[], extra: Partial<JsonBodySpec> = {}): JsonBodySpec => ({
  kind: "json",
  valid,
  required,
  limitBytes: MAX_BODY_BYTES,
  ...extra,
});

/** One valid request per route: the specs the generators break. */
export function routeSpecs(fx: Fixture): Map<string, RouteSpec> {
  const profileBody = { name: "Desk", pool: POOL, mode: "relay" };
  const specs: Record<string, PartialSpec> = {
    "GET /health": { role: "public" },
    "POST /v1/agent/enrol": {
      role: "public",
      body: json(
        { token: fx.enrolmentToken, publicKey: fx.nodeA.publicJwk, hostname: "hx-new", originUrl: "http://127.0.0.1:6080/", staticData: {} },
        ["token", "publicKey", "hostname", "originUrl"],
        { limitBytes: MAX_HEARTBEAT_BODY_BYTES },
      ),
    },
    "POST /v1/agent/heartbeat": {
      role: "node",
      body: json({ ...sampleBody() }, ["loadAvg", "cpuCount", "cpuMhz", "memTotalBytes", "memAvailableBytes", "sessions", "users"], {
        limitBytes: MAX_HEARTBEAT_BODY_BYTES,
      }),
    },
    "POST /v1/agent/rekey": {
      role: "nodeRekey",
      body: json({ publicKey: fx.nodeB.publicJwk, originUrl: "http://127.0.0.1:6080/hx-moved" }, ["publicKey", "originUrl"], { limitBytes: MAX_HEARTBEAT_BODY_BYTES }),
    },
    "GET /v1/agent/channel": { role: "nodeChannel" },
    "POST /v1/auth/login": { role: "public", body: json({ login: "alice", password: "correct-horse-battery" }, ["login", "password"]) },
    "GET /v1/auth/me": { role: "user" },
    "POST /v1/auth/refresh": { role: "session" },
    "POST /v1/tunnels": { role: "user", body: json({ profileId: PROFILE_ID, server: "hx-b" }, ["profileId", "server"]) },
    "GET /v1/tunnels/:serverId": { role: "serviceTicket", params: { serverId: { valid: fx.nodeB.serverId, schema: serverIdSchema } } },
    "GET /v1/admin/pools": { role: "admin" },
    "POST /v1/admin/pools": { role: "admin", body: json({ name: "hx-new", intervalMs: 1000 }, ["name"]) },
    "GET /v1/admin/pools/:pool": { role: "admin", params: poolParam },
    "PATCH /v1/admin/pools/:pool": { role: "admin", params: poolParam, body: json({ intervalMs: 1000 }, ["intervalMs"]) },
    "GET /v1/admin/pools/:pool/policy": { role: "admin", params: poolParam },
    "PUT /v1/admin/pools/:pool/policy": {
      role: "admin",
      params: poolParam,
      body: json({ policy: { steps: [{ use: "least-loaded" }] } }, ["policy"], { nullable: ["policy"] }),
    },
    "POST /v1/admin/pools/:pool/dry-run": {
      role: "admin",
      params: poolParam,
      body: json({ action: "session/start", user: { login: "alice" }, data: {} }, ["user"], { jsonRecord: "data" }),
    },
    "GET /v1/admin/pools/:pool/decisions": {
      role: "admin",
      params: poolParam,
      query: { valid: { limit: "10" }, schemas: { limit: z.coerce.number().int().min(1).max(200) } },
    },
    "POST /v1/admin/pools/:pool/enrolment-tokens": { role: "admin", params: poolParam, body: json({ ttlSeconds: 600 }, []) },
    "GET /v1/admin/pools/:pool/servers": { role: "admin", params: poolParam },
    "GET /v1/admin/pools/:pool/servers/:serverId": { role: "admin", params: serverParams(fx) },
    "POST /v1/admin/pools/:pool/servers/:serverId/approve": { role: "admin", params: serverParams(fx) },
    "POST /v1/admin/pools/:pool/servers/:serverId/rekey-tokens": { role: "admin", params: serverParams(fx), body: json({ ttlSeconds: 600 }, []) },
    "POST /v1/admin/pools/:pool/servers/:serverId/drain": { role: "admin", params: serverParams(fx) },
    "POST /v1/admin/pools/:pool/servers/:serverId/undrain": { role: "admin", params: serverParams(fx) },
    "PUT /v1/admin/pools/:pool/servers/:serverId/static-data": {
      role: "admin",
      params: serverParams(fx),
      body: json({ staticData: { gpu: true } }, ["staticData"]),
    },
    "DELETE /v1/admin/pools/:pool/servers/:serverId": { role: "admin", params: serverParams(fx) },
    "POST /v1/admin/pools/:pool/servers/:serverId/ping": { role: "admin", params: serverParams(fx) },
    "POST /v1/admin/pools/:pool/servers/:serverId/disconnect": {
      role: "admin",
      params: serverParams(fx),
      body: json({ sessionId: BOB_SESSION_ID, reason: "maintenance" }, ["sessionId"]),
    },
    "POST /v1/admin/users/:login/disconnect": { role: "admin", params: { login: { valid: "bob", schema: anyLoginParam.shape.login } }, body: json({ reason: "maintenance" }, []) },
    "GET /v1/admin/users": { role: "admin" },
    "POST /v1/admin/users": {
      role: "admin",
      body: json({ login: "hx-new", password: "long-enough-1", groups: ["staff"], isAdmin: false }, ["login", "password"]),
    },
    "GET /v1/admin/users/:login": { role: "admin", params: loginParam },
    "PATCH /v1/admin/users/:login": { role: "admin", params: loginParam, body: json({ groups: ["staff"] }, ["groups"]) },
    "DELETE /v1/admin/users/:login": { role: "admin", params: loginParam },
    "GET /v1/admin/profiles": { role: "adminToken", query: { valid: { pool: POOL }, schemas: { pool: poolNameSchema } } },
    "POST /v1/admin/profiles": { role: "adminToken", body: json({ id: "hx-new", ...profileBody }, ["id", "name", "pool", "mode"], { x2goText: ["name", "command"] }) },
    "POST /v1/admin/profiles/import": {
      role: "adminToken",
      query: {
        valid: { pool: POOL, replace: "true" },
        schemas: { pool: poolNameSchema, replace: z.enum(["true", "false"]), mode: z.enum(["relay", "redirect"]) },
      },
      body: { kind: "text", valid: "[hx-imported]\nname=Imported\nhost=hx-a\n", contentType: "text/plain", x2goTextKey: "command", limitBytes: MAX_IMPORT_BYTES },
    },
    "GET /v1/admin/profiles/:id": { role: "adminToken", params: profileParam },
    "PUT /v1/admin/profiles/:id": { role: "adminToken", params: profileParam, body: json(profileBody, ["name", "pool", "mode"], { x2goText: ["name", "command"] }) },
    "DELETE /v1/admin/profiles/:id": { role: "adminToken", params: profileParam },
    "POST /v1/pools/:pool/select": {
      role: "user",
      params: poolParam,
      body: json({ action: "session/start", data: {}, profileId: PROFILE_ID }, [], { jsonRecord: "data" }),
    },
    "GET /v1/relay/:serverId": { role: "ticket", params: { serverId: { valid: fx.nodeB.serverId, schema: serverIdSchema } } },
    "GET /v1/profiles": { role: "user" },
    "GET /v1/sessions": {
      role: "user",
      query: { valid: { user: "bob" }, schemas: { user: z.string().min(1).max(256), all: z.enum(["true", "false"]) } },
    },
    "POST /v1/sessions": { role: "user", body: json({ profileId: PROFILE_ID, data: {} }, ["profileId"], { jsonRecord: "data" }) },
    "POST /v1/sessions/:sessionId/resume": {
      role: "user",
      params: { sessionId: { valid: BOB_SESSION_ID, schema: z.string().min(1).max(256) } },
      body: json({ profileId: PROFILE_ID }, ["profileId"]),
    },
    "DELETE /v1/sessions/:sessionId": { role: "user", params: { sessionId: { valid: BOB_SESSION_ID, schema: z.string().min(1).max(256) } } },
    "GET /v1/queue/:queueId": { role: "user", params: queueParam, query: { valid: { wait: "0" }, schemas: queueQuerySchema.shape } },
    "GET /v1/queue/:queueId/events": { role: "user", params: queueParam },
    "DELETE /v1/queue/:queueId": { role: "user", params: queueParam },
    "GET /v1/admin/pools/:pool/queue": { role: "admin", params: poolParam },
    "DELETE /v1/admin/pools/:pool/queue/:entryId": { role: "admin", params: { ...poolParam, entryId: { valid: QUEUE_ENTRY_ID, schema: queueEntryParam.shape.entryId } } },
    "GET /v1/admin/pools/:pool/export": { role: "admin", params: poolParam },
    "POST /v1/admin/pools/:pool/import": {
      role: "admin",
      params: poolParam,
      body: json({ version: 1, pool: { name: POOL, intervalMs: 300_000, policy: null }, profiles: [], nodes: [] }, ["version", "pool"]),
    },
    "GET /openapi.json": { role: "public" },
    "GET /docs": { role: "public" },
    "GET /docs/:file": { role: "public", params: { file: { valid: docsFile, schema: z.string().refine((name) => DOCS_ASSETS.has(name)) } } },
    "GET /admin/assets/dashboard.css": { role: "uiPublic" },
    "GET /admin/assets/dashboard.js": { role: "uiPublic" },
    "GET /admin/login": { role: "uiPublic", query: { valid: {}, schemas: { notice: z.enum(["signed-out"]) } } },
    "POST /admin/login": { role: "uiPublic" },
    "GET /admin": { role: "ui" },
    "POST /admin/logout": { role: "ui" },
    "GET /admin/servers": { role: "ui", query: { valid: {}, schemas: { ...sort, notice: z.string().max(32) } } },
    "GET /admin/api/servers": { role: "ui", query: { valid: {}, schemas: sort } },
    "POST /admin/servers/:pool/:serverId/:action": {
      role: "ui",
      params: { ...serverParams(fx), action: { valid: "drain", schema: z.enum(["approve", "drain", "undrain", "remove"]) } },
    },
    "GET /admin/sessions": { role: "ui", query: { valid: {}, schemas: { user: z.string().trim().max(256), server: z.string().trim().max(256), notice: z.string().max(32) } } },
    "POST /admin/sessions/disconnect": { role: "ui" },
    "POST /admin/sessions/terminate": { role: "ui" },
    "POST /admin/sessions/queue/remove": { role: "ui" },
    "GET /admin/pools": { role: "ui", query: notice },
    "POST /admin/pools": { role: "ui" },
    "GET /admin/pools/:pool": { role: "ui", params: poolParam },
    "POST /admin/pools/:pool/policy": { role: "ui", params: poolParam },
    "POST /admin/pools/:pool/settings": { role: "ui", params: poolParam },
    "POST /admin/pools/:pool/dry-run": { role: "ui", params: poolParam },
    "GET /admin/decisions": { role: "ui", query: uiPoolQuery },
    "GET /admin/enrolment": { role: "ui", query: uiPoolQuery },
    "POST /admin/enrolment": { role: "ui" },
    "GET /admin/users": { role: "ui", query: notice },
    "POST /admin/users": { role: "ui" },
    "POST /admin/users/:login/:action": { role: "ui", params: { ...loginParam, action: { valid: "enable", schema: z.enum(["enable", "disable", "disconnect", "delete"]) } } },
    "GET /admin/profiles": { role: "ui", query: notice },
    "POST /admin/profiles": { role: "ui" },
    "POST /admin/profiles/:id/delete": { role: "ui", params: profileParam },
    "ALL /admin/*": { role: "ui" },
    "GET /": { role: "portalPublic", query: notice },
    "POST /portal/login": { role: "portalPublic" },
    "POST /portal/logout": { role: "portal" },
    "GET /portal/desktop": { role: "portal", query: { valid: { profile: PROFILE_ID }, schemas: { profile: profileIdSchema, session: portalSessionParamSchema.shape.sessionId } } },
    "POST /portal/sessions/:sessionId/terminate": { role: "portal", params: { sessionId: { valid: BOB_SESSION_ID, schema: portalSessionParamSchema.shape.sessionId } } },
    "GET /portal/api/state": { role: "portal" },
    "POST /portal/api/sessions": { role: "portal", body: json({ profileId: PROFILE_ID }, ["profileId"], { limitBytes: PORTAL_BODY_BYTES }) },
    "GET /portal/api/queue/:queueId": { role: "portal", params: queueParam, query: { valid: { wait: "0" }, schemas: queueQuerySchema.shape } },
    "POST /portal/api/queue/:queueId/leave": { role: "portal", params: queueParam },
    "POST /portal/api/sessions/:sessionId/connect": {
      role: "portal",
      params: { sessionId: { valid: BOB_SESSION_ID, schema: portalSessionParamSchema.shape.sessionId } },
      body: json({ profileId: PROFILE_ID }, ["profileId"], { limitBytes: PORTAL_BODY_BYTES }),
    },
    "ALL /portal/*": { role: "portalPublic" },
    "ALL /plain": { role: "x2go" },
    "ALL /json": { role: "x2go" },
    "ALL /plain/": { role: "x2go" },
    "ALL /plain/:backend/*": { role: "x2go" },
    "ALL /json/": { role: "x2go" },
    "ALL /json/:backend/*": { role: "x2go" },
  };
  const map = new Map<string, RouteSpec>();
  for (const [key, spec] of Object.entries(specs)) {
    const [method = "", pattern = ""] = key.split(" ");
    map.set(key, { key, method, pattern, params: {}, query: { valid: {}, schemas: {} }, ...spec });
  }
  return map;
}

/** The concrete path of `spec` with its valid params, or with `overrides` (already encoded). */
export function pathOf(spec: RouteSpec, overrides: Record<string, string> = {}): string {
  return spec.pattern
    .split("/")
    .map((segment) => {
      if (segment === "*") return "x";
      if (!segment.startsWith(":")) return segment;
      const name = segment.slice(1);
      return overrides[name] ?? encodeURIComponent(spec.params[name]?.valid ?? "x");
    })
    .join("/");
}

function patternMatches(pattern: string, path: string): boolean {
  const want = pattern.split("/");
  const got = path.split("/");
  for (let i = 0; i < want.length; i++) {
    const segment = want[i] ?? "";
    if (segment === "*") return true;
    const value = got[i];
    if (value === undefined) return false;
    if (segment.startsWith(":") ? value === "" : segment !== value) return false;
  }
  return want.length === got.length;
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

export const METHODS_TRIED = METHODS;

/**
 * Methods no route serves for `path` (a catch-all that answers 404 does not count): calling them
 * is a client error whatever else is sent.
 */
export function unservedMethods(routes: Iterable<RouteSpec>, path: string): string[] {
  const serving = [...routes].filter((spec) => !(spec.method === "ALL" && spec.pattern.endsWith("/*") && !spec.pattern.includes(":")) && patternMatches(spec.pattern, path));
  if (serving.some((spec) => spec.method === "ALL")) return [];
  return METHODS.filter((method) => !serving.some((spec) => spec.method === method || (method === "HEAD" && spec.method === "GET")));
}

/** Stands in for the fixture where only the routes' roles are wanted (before any fixture exists). */
const STUB_FIXTURE = {
  nodeA: { publicJwk: { kty: "OKP", crv: "Ed25519", x: "" } },
  nodeB: { serverId: "srv_stub000000" },
  enrolmentToken: "",
} as unknown as Fixture;

/** Each mounted route's role, without a fixture (for `it.each` tables). */
export function routeRoles(): Map<string, Role> {
  return new Map([...routeSpecs(STUB_FIXTURE)].map(([key, spec]) => [key, spec.role]));
}

export const PROTECTED_ROLES: Role[] = ["admin", "adminToken", "user", "session", "node", "nodeRekey", "nodeChannel", "ticket", "serviceTicket", "ui", "portal"];
