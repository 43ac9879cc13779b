/**
 * Sends a generated case to the Worker: resolves its credential for the route's role (signing
 * heartbeats over the exact body bytes, issuing fresh relay tickets) and builds the request.
 */
import { exports } from "cloudflare:workers";
import { CHANNEL_AUDIENCE, HEARTBEAT_AUDIENCE, REKEY_AUDIENCE } from "../../../src/protocol.ts";
import { ADMIN_UI_COOKIE } from "../../../src/ui/session.ts";
import { PORTAL_COOKIE } from "../../../src/portal/session.ts";
import { ADMIN, ADMIN_TOKEN } from "../helpers.ts";
import { type Fixture, UI_ORIGIN } from "./fixture.ts";
import { encodeBody, type HostileCase, type UiCredentialPlan, type UiOriginPlan, type UiSessionPlan } from "./primitives.ts";
import { isTicketRole, type RouteSpec } from "./routes.ts";
import { bearer, beatToken, FOREIGN_KEY, foreignEd25519, genuineServiceTicket, genuineTicket, resigned, uiSessionCookie, unsigned } from "./tokens.ts";

const foreign = foreignEd25519();
let userTurn = 0;

async function credentialHeaders(c: HostileCase, spec: RouteSpec, fx: Fixture, body: Uint8Array): Promise<{ headers: Record<string, string>; query: string[] }> {
  const plan = c.credential;
  if (plan.kind === "ui") return { headers: spec.role === "portal" || spec.role === "portalPublic" ? await portalHeaders(plan, fx) : await uiHeaders(plan, fx), query: [] };
  if (isTicketRole(spec.role)) {
    // workerd turns any upgrade request into a GET, so a wrong method is tried without one.
    const upgrade = c.flaw !== "no WebSocket upgrade" && c.flaw !== "a method the path does not serve";
    const headers: Record<string, string> = upgrade ? { Upgrade: "websocket", Connection: "Upgrade" } : {};
    if (plan.kind === "none") return { headers, query: [] };
    if (plan.kind === "header") return { headers: { ...headers, "Sec-WebSocket-Protocol": `broker-ticket.${plan.value.replace(/^\S+ ?/, "")}` }, query: [] };
    const serverId = plan.kind === "ticket-for-other-server" ? fx.nodeA.serverId : fx.nodeB.serverId;
    return { headers, query: [`ticket=${spec.role === "ticket" ? await genuineTicket(serverId) : await genuineServiceTicket(serverId)}`] };
  }
  if (plan.kind === "none") return { headers: {}, query: [] };
  if (plan.kind === "header") return { headers: { Authorization: plan.value }, query: [] };
  switch (spec.role) {
    case "admin":
    case "adminToken":
      return { headers: ADMIN, query: [] };
    case "user":
    case "session":
      // Rotated, so no one user meets the session-start rate limit within a run.
      return { headers: bearer([fx.alice, fx.root, fx.bob][userTurn++ % 3] ?? fx.alice), query: [] };
    case "node":
    case "nodeRekey":
    case "nodeChannel": {
      const aud = spec.role === "nodeRekey" ? REKEY_AUDIENCE : spec.role === "nodeChannel" ? CHANNEL_AUDIENCE : HEARTBEAT_AUDIENCE;
      // The channel upgrade's token covers no body (the broker hashes none).
      const signed = spec.role === "nodeChannel" ? new Uint8Array() : body;
      if (plan.kind === "foreign-beat") return { headers: bearer(await beatToken(fx.nodeA, signed, { aud, key: (await foreign).privateKey })), query: [] };
      const token = await beatToken(fx.nodeA, signed, { aud });
      return { headers: bearer(plan.kind === "unsigned-beat" ? unsigned(token) : token), query: [] };
    }
    default:
      return { headers: {}, query: [] };
  }
}

const UI_ORIGINS: Record<UiOriginPlan, Record<string, string>> = {
  same: { Origin: UI_ORIGIN },
  none: {},
  foreign: { Origin: "https://evil.example" },
  null: { Origin: "null" },
  "cross-site-fetch": { Origin: UI_ORIGIN, "Sec-Fetch-Site": "cross-site" },
};

async function uiHeaders(plan: UiCredentialPlan, fx: Fixture): Promise<Record<string, string>> {
  const cookies: Record<UiSessionPlan, () => Promise<string | null>> = {
    valid: async () => fx.ui.cookie,
    none: async () => null,
    garbage: async () => `${ADMIN_UI_COOKIE}=not.a.session`,
    "foreign-key": async () => (await uiSessionCookie({ key: FOREIGN_KEY })).cookie,
    "user-bearer-token": async () => `${ADMIN_UI_COOKIE}=${fx.root}`,
    "admin-token": async () => `${ADMIN_UI_COOKIE}=${ADMIN_TOKEN}`,
  };
  const cookie = await cookies[plan.session]();
  const csrf = plan.csrf === "valid" ? fx.ui.csrf : plan.csrf === "wrong" ? "W".repeat(43) : null;
  return { ...UI_ORIGINS[plan.origin], ...(cookie ? { Cookie: cookie } : {}), ...(csrf ? { "X-CSRF-Token": csrf } : {}) };
}

/** The portal's cookie and CSRF token as `plan` says (the dashboard's plans, on the portal's cookie). */
async function portalHeaders(plan: UiCredentialPlan, fx: Fixture): Promise<Record<string, string>> {
  const token = fx.portal.cookie.slice(fx.portal.cookie.indexOf("=") + 1);
  const values: Record<UiSessionPlan, () => Promise<string | null>> = {
    valid: async () => token,
    none: async () => null,
    garbage: async () => "not.a.session",
    "foreign-key": async () => resigned(token, FOREIGN_KEY),
    "user-bearer-token": async () => fx.bob,
    "admin-token": async () => ADMIN_TOKEN,
  };
  const value = await values[plan.session]();
  const csrf = plan.csrf === "valid" ? fx.portal.csrf : plan.csrf === "wrong" ? "W".repeat(43) : null;
  return { ...UI_ORIGINS[plan.origin], ...(value ? { Cookie: `${PORTAL_COOKIE}=${value}` } : {}), ...(csrf ? { "X-CSRF-Token": csrf } : {}) };
}

/** Sends `c` and returns the response (the body not yet read). */
export async function sendCase(c: HostileCase, spec: RouteSpec, fx: Fixture): Promise<Response> {
  const body = c.body ? encodeBody(c.body, c.badBytes) : null;
  const credential = await credentialHeaders(c, spec, fx, body ?? new Uint8Array());
  const query = [c.query, ...credential.query].filter((piece) => piece !== "").join("&");
  const headers = new Headers(c.headers);
  for (const [name, value] of Object.entries(credential.headers)) headers.set(name, value);
  // As for tickets: workerd turns any upgrade request into a GET, so a wrong method goes without one.
  if (spec.role === "nodeChannel" && c.flaw !== "no WebSocket upgrade" && c.flaw !== "a method the path does not serve") {
    headers.set("Upgrade", "websocket");
    headers.set("Connection", "Upgrade");
  }
  if (c.body?.contentType) headers.set("Content-Type", c.body.contentType);
  const url = `https://broker.test${c.path}${query ? `?${query}` : ""}`;
  return exports.default.fetch(new Request(url, { method: c.method, headers, redirect: "manual", ...(body && c.method !== "GET" && c.method !== "HEAD" ? { body } : {}) }));
}
