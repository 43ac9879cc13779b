/**
 * The cluster both hostile suites attack: a pool with a long heartbeat interval (so no liveness
 * alarm fires during a run), two nodes that are up, three users (one an admin), a profile, an
 * unused enrolment token, and a session of bob's reported by a node.
 */
import { decodeJwt } from "jose";
import { ADMIN_TOKEN, admin, beat, call, callJson, enrolNode, issueToken, sampleBody, type TestNode, userToken } from "../helpers.ts";

export const POOL = "hx";
/** The longest interval allowed: nodes stay up for 15 minutes without another beat. */
export const POOL_INTERVAL_MS = 300_000;
export const PROFILE_ID = "hx-desk";
export const PASSWORD = "correct-horse-battery";
export const BOB_SESSION_ID = "bob-50-1700000000_stDXFCE_dp24";

export interface Fixture {
  nodeA: TestNode;
  nodeB: TestNode;
  /** Session tokens: alice and bob are plain users, root is a broker admin user. */
  alice: string;
  bob: string;
  root: string;
  /** An unused enrolment token for the pool. */
  enrolmentToken: string;
  /** A dashboard session of the admin token: the cookie pair and its CSRF token. */
  ui: { cookie: string; csrf: string };
  /** A portal session of bob's: the cookie pair and its CSRF token. */
  portal: { cookie: string; csrf: string };
}

async function ok(response: Promise<Response>, status: number, what: string): Promise<void> {
  const answer = await response;
  if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${await answer.text()}`);
}

export async function setUpFixture(): Promise<Fixture> {
  await ok(admin("/v1/admin/pools", "POST", { name: POOL, intervalMs: POOL_INTERVAL_MS }), 201, "pool");
  const nodeA = await enrolNode("hx-a", POOL);
  const nodeB = await enrolNode("hx-b", POOL);
  const bobsSession = { id: BOB_SESSION_ID, user: "bob", state: "suspended" as const, startedAt: 1_700_000_000_000 };
  await ok(beat(nodeA, sampleBody({ sessions: [bobsSession], users: ["bob"] })), 200, "beat a");
  await ok(beat(nodeB, sampleBody({ sessions: [], users: [] })), 200, "beat b");
  await ok(admin("/v1/admin/profiles", "POST", { id: PROFILE_ID, name: "Desk", pool: POOL, mode: "relay", service: "ssh" }), 201, "profile");
  const alice = await userToken("alice", ["staff"], PASSWORD);
  const bob = await userToken("bob", [], PASSWORD);
  const root = await rootToken();
  return { nodeA, nodeB, alice, bob, root, enrolmentToken: await issueToken(POOL), ui: await uiSession(), portal: await portalSession("bob") };
}

export const UI_ORIGIN = "https://broker.test";

async function uiSession(): Promise<Fixture["ui"]> {
  const response = await call("/admin/login", {
    method: "POST",
    headers: { Origin: UI_ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ method: "token", token: ADMIN_TOKEN }).toString(),
    redirect: "manual",
  });
  const cookie = (response.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
  if (response.status !== 303 || !cookie.includes("=")) throw new Error(`dashboard sign-in: ${response.status}`);
  const csrf = decodeJwt(cookie.slice(cookie.indexOf("=") + 1))["csrf"];
  if (typeof csrf !== "string") throw new Error("dashboard session without a CSRF token");
  return { cookie, csrf };
}

async function portalSession(login: string): Promise<Fixture["portal"]> {
  const response = await call("/portal/login", {
    method: "POST",
    headers: { Origin: UI_ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ method: "password", login, password: PASSWORD }).toString(),
    redirect: "manual",
  });
  const cookie = (response.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
  if (response.status !== 303 || !cookie.includes("=")) throw new Error(`portal sign-in: ${response.status}`);
  const csrf = decodeJwt(cookie.slice(cookie.indexOf("=") + 1))["csrf"];
  if (typeof csrf !== "string") throw new Error("portal session without a CSRF token");
  return { cookie, csrf };
}

async function rootToken(): Promise<string> {
  await ok(admin("/v1/admin/users", "POST", { login: "root", password: PASSWORD, isAdmin: true }), 201, "root");
  const response = await callJson("/v1/auth/login", "POST", { login: "root", password: PASSWORD });
  if (response.status !== 200) throw new Error(`root sign-in: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}
