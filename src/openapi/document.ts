/**
 * The OpenAPI 3.1 document of the broker's HTTP API, built from the route registry (registry.ts)
 * and the zod schemas the routes validate with. Built once per isolate, on first use. Holds no
 * secret: it describes the API, not a deployment.
 */
import { codeToStatus, type ErrorCode } from "../core/errors.ts";
import { errorEnvelopeSchema } from "../protocol.ts";
import { type JsonSchema, SchemaCollector } from "./json-schema.ts";
import { ROUTES } from "./registry.ts";
import type { AuthKind, RouteSpec } from "./route-spec.ts";

export const OPENAPI_VERSION = "3.1.1";

const TAGS = [
  { name: "meta", description: "The broker itself and this reference." },
  { name: "agent", description: "Called by the node agent: enrolment and signed heartbeats." },
  { name: "auth", description: "Sign-in for broker-managed users; who am I." },
  { name: "sessions", description: "The user's side: my profiles, my sessions, start and resume." },
  { name: "placement", description: "Choosing a server with the pool's balancing chain." },
  { name: "relay", description: "WebSocket pass-through to a node's desktop." },
  { name: "admin: pools", description: "Pools and enrolment tokens." },
  { name: "admin: servers", description: "A pool's servers: live state, draining, static data, removal." },
  { name: "admin: policies", description: "Balancing policies, dry runs and the decision log." },
  { name: "admin: config", description: "A pool's configuration as data: export and import." },
  { name: "admin: users", description: "Broker-managed users." },
  { name: "admin: profiles", description: "Session profiles and the X2Go profiles file import." },
];

const SECURITY_SCHEMES = {
  adminToken: { type: "http", scheme: "bearer", description: "The deployment's admin secret (`wrangler secret put ADMIN_TOKEN`)." },
  userSession: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A session token from `POST /v1/auth/login`, or an OIDC / Cloudflare Access JWT. Admin routes take the token of a user with `isAdmin`.",
  },
  accessJwt: { type: "apiKey", in: "header", name: "Cf-Access-Jwt-Assertion", description: "The JWT Cloudflare Access adds (OIDC must be configured)." },
  nodeJwt: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT (EdDSA)",
    description: "Signed per heartbeat with the node's enrolled Ed25519 key; lives at most 60 s; binds the body by its hash.",
  },
  relayTicket: { type: "apiKey", in: "query", name: "ticket", description: "A single-use relay ticket from a session start (or the subprotocol `broker-ticket.<ticket>`)." },
  serviceTicket: { type: "apiKey", in: "query", name: "ticket", description: "A single-use service ticket from `POST /v1/tunnels` (or the subprotocol `broker-ticket.<ticket>`)." },
};

const SECURITY: Record<AuthKind, Array<Record<string, string[]>>> = {
  admin: [{ adminToken: [] }, { userSession: [] }, { accessJwt: [] }],
  adminToken: [{ adminToken: [] }],
  user: [{ userSession: [] }, { accessJwt: [] }, { adminToken: [] }],
  node: [{ nodeJwt: [] }],
  relayTicket: [{ relayTicket: [] }],
  serviceTicket: [{ serviceTicket: [] }],
  enrolment: [],
  none: [],
};

const ERROR_REF = { $ref: "#/components/schemas/Error" };

/** The error codes a route can answer with: its own, plus those its auth and inputs imply. */
function errorCodes(route: RouteSpec): ErrorCode[] {
  const codes = new Set<ErrorCode>(route.errors ?? []);
  if (route.auth !== "none") codes.add("UNAUTHORIZED");
  if (route.auth === "admin" || route.auth === "adminToken") codes.add("FORBIDDEN");
  if (route.params || route.query || route.body) codes.add("BAD_REQUEST");
  if (route.body && route.path.startsWith("/v1/")) codes.add("PAYLOAD_TOO_LARGE");
  return [...codes];
}

function errorResponses(route: RouteSpec): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodes(route)) byStatus.set(codeToStatus(code), [...(byStatus.get(codeToStatus(code)) ?? []), code]);
  const responses: Record<string, unknown> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: codes.map((code) => `\`${code}\``).join(" or "),
      ...(codes.includes("RATE_LIMITED") ? { headers: { "Retry-After": { description: "Seconds to wait.", schema: { type: "integer" } } } } : {}),
      content: { "application/json": { schema: ERROR_REF } },
    };
  }
  responses.default = { description: "Any other failure (`INTERNAL`, …), in the same envelope.", content: { "application/json": { schema: ERROR_REF } } };
  return responses;
}

function parameters(route: RouteSpec, collector: SchemaCollector): unknown[] {
  const out: unknown[] = [];
  for (const [where, schema] of [["path", route.params], ["query", route.query]] as const) {
    if (!schema) continue;
    const json = collector.convert(schema, route.operationId);
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries((json.properties ?? {}) as Record<string, JsonSchema>)) {
      out.push({ name, in: where, required: where === "path" || required.has(name), schema: property });
    }
  }
  return out;
}

function requestBody(route: RouteSpec, collector: SchemaCollector): unknown {
  const body = route.body;
  if (body === undefined) return undefined;
  if ("_zod" in body) return { required: true, content: { "application/json": { schema: collector.convert(body, route.operationId) } } };
  return { required: true, description: body.description, content: { [body.mediaType]: { schema: { type: "string" } } } };
}

function successResponse(route: RouteSpec, collector: SchemaCollector): unknown {
  const { description, schema, mediaType } = route.response;
  if (mediaType === null) return { description };
  if (mediaType !== undefined) return { description, content: { [mediaType]: {} } };
  return { description, content: { "application/json": schema ? { schema: collector.convert(schema, route.operationId) } : {} } };
}

function operation(route: RouteSpec, collector: SchemaCollector): Record<string, unknown> {
  const params = parameters(route, collector);
  const body = requestBody(route, collector);
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: SECURITY[route.auth],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: { [String(route.response.status)]: successResponse(route, collector), ...errorResponses(route) },
  };
}

/** Builds the document (pure; throws if a schema cannot be represented or two routes collide). */
export function buildOpenApiDocument(routes: readonly RouteSpec[] = ROUTES): Record<string, unknown> {
  const collector = new SchemaCollector();
  collector.convert(errorEnvelopeSchema, "Error");
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`${route.method.toUpperCase()} ${route.path} is listed twice`);
    item[route.method] = operation(route, collector);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: "Edge session broker",
      version: "v1",
      description: [
        "Session broker for remote-desktop clusters on Cloudflare Workers.",
        "Every failure is `{ \"error\": { \"code\", \"message\", \"requestId\" } }` with a 4xx/5xx status. Bodies are JSON validated as shown here; unknown fields are refused. Bodies are capped at 1 MiB (agent routes at 64 KiB).",
        "The X2Go broker protocol (`POST /plain/`, `POST /json/`) answers as x2gobroker does and is described in docs/api.md.",
      ].join("\n\n"),
    },
    tags: TAGS,
    paths,
    components: { schemas: collector.components, securitySchemes: SECURITY_SCHEMES },
  };
}

let built: Record<string, unknown> | null = null;

/** The document for this deployment's code, built on first use. */
export function openApiDocument(): Record<string, unknown> {
  built ??= buildOpenApiDocument();
  return built;
}
