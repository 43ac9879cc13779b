/**
 * Every route of the broker's HTTP API, for the OpenAPI document. Request schemas are the ones
 * the routes validate with, imported from where the routes define them. A route added to the
 * app must be added here: test/worker/openapi.test.ts compares this list with the app's routes.
 * The X2Go broker protocol (`/plain/`, `/json/`) is form-encoded and documented in docs/api.md.
 */
import { z } from "zod";
import { policySchema } from "../balancer/policy.ts";
import { configDocumentSchema } from "../cluster/config-transfer.ts";
import { profileBodySchema, profileSchema } from "../profiles/profile-schema.ts";
import { enrolRequestSchema, enrolResponseSchema, errorEnvelopeSchema, heartbeatBodySchema, heartbeatReplySchema, rekeyRequestSchema, staticDataSchema } from "../protocol.ts";
import {
  createPoolBodySchema,
  decisionsQuerySchema,
  dryRunBodySchema,
  enrolmentTokenBodySchema,
  poolParam,
  putPolicyBodySchema,
  serverParam,
  updatePoolBodySchema,
} from "../routes/admin.ts";
import { rekeyTokenBodySchema, serverDisconnectBodySchema, staticDataBodySchema } from "../routes/servers.ts";
import { signInSchema } from "../routes/auth.ts";
import { poolSelectBodySchema, selectParamSchema } from "../routes/pools.ts";
import { idParam, importQuery, listQuery } from "../routes/profiles-admin.ts";
import { relayParamSchema } from "../routes/relay.ts";
import { anyLoginParam, loginParam, userDisconnectBodySchema } from "../routes/users.ts";
import { selectBodySchema, selectUserSchema } from "../sessions/placement-request.ts";
import { createUserSchema, updateUserSchema } from "../users/users.ts";
import { nameSchema } from "./json-schema.ts";
import type { RouteSpec } from "./route-spec.ts";
import { queueRoutes } from "./queue-routes.ts";
import { sessionRoutes } from "./session-routes.ts";
import { tunnelRoutes } from "./tunnel-routes.ts";

const EXAMPLE_POLICY = {
  steps: [
    { use: "resume" },
    { use: "require" },
    { script: "function (input) { return input.servers.filter((server) => server.staticData.gpu === true); }", name: "gpu-first" },
    { use: "least-loaded" },
  ],
};
const EXAMPLE_CONFIG = {
  version: 1,
  pool: { name: "lab", intervalMs: 10000, policy: EXAMPLE_POLICY },
  profiles: [{ id: "lab-desktop", name: "Lab desktop", mode: "relay", hosts: [], command: "XFCE", policy: null, acl: { groups: { allow: ["staff"], deny: [], order: "deny-allow" } }, x2goOptions: {} }],
  nodes: [{ hostname: "ts01.lab.example", staticOverrides: { gpu: true, maxSessions: 8 }, draining: false }],
};

nameSchema(errorEnvelopeSchema, "Error", "The answer to every failure: a closed `code`, a message, and the request id for the logs.");
nameSchema(policySchema, "Policy", "A balancing chain: at most 16 steps, each a built-in (`use`, `params`) or a JavaScript function (`script`, `name`).", EXAMPLE_POLICY);
nameSchema(staticDataSchema, "StaticData", "Flat facts about a node (gpu, maxSessions, …): at most 64 keys.", { gpu: true, maxSessions: 8, site: "lab" });
nameSchema(selectUserSchema, "SelectUser", "The user a placement is for.");
nameSchema(selectBodySchema, "SelectBody", "A placement request: the action, the user and the request data the steps read.");
nameSchema(profileBodySchema, "ProfileBody", "A session profile but its id.");
nameSchema(profileSchema, "Profile", "A session profile: pool, connection mode, hosts, command, policy override, ACL and X2Go options.");
nameSchema(configDocumentSchema, "PoolConfig", "A pool's configuration as data (version 1): interval, policy, profiles, node settings. No secrets.", EXAMPLE_CONFIG);

const timestamps = { createdAt: z.number().int(), updatedAt: z.number().int() };
/** A stored profile as the API shows it (timestamps in epoch milliseconds). */
const storedProfile = profileSchema.extend(timestamps);

const PLACEMENT_ERRORS = ["NO_SERVER_AVAILABLE", "POLICY_REJECTED", "POLICY_INVALID_RESULT", "SESSION_LIMIT_REACHED", "RATE_LIMITED"] as const;
/** A command over a node's control channel: not connected (409), busy (503), no answer (504), failed (502). */
const COMMAND_ERRORS = ["NOT_FOUND", "NODE_NOT_CONNECTED", "NODE_BUSY", "NODE_TIMEOUT", "NODE_FAILED"] as const;

const meta: RouteSpec[] = [
  { method: "get", path: "/health", operationId: "health", summary: "Liveness of the broker", tag: "meta", auth: "none", response: { status: 200, description: "`{ ok: true }`" } },
  { method: "get", path: "/openapi.json", operationId: "openApi", summary: "This document", tag: "meta", auth: "none", response: { status: 200, description: "The OpenAPI 3.1 document." } },
  { method: "get", path: "/docs", operationId: "docs", summary: "The API reference page", tag: "meta", auth: "none", response: { status: 200, description: "An HTML page rendering this document.", mediaType: "text/html" } },
];

const agent: RouteSpec[] = [
  {
    method: "post", path: "/v1/agent/enrol", operationId: "enrolNode", summary: "Enrol a node with a one-time token", tag: "agent", auth: "enrolment",
    description:
      "With an enrolment token: a new node in the token's pool (409 when another node holds the hostname or origin; 400 when the origin breaks the pool's origin rules). With a re-key token: the token's node gets the new key, origin and assertion key. Bodies are capped at 64 KiB.",
    body: enrolRequestSchema, response: { status: 201, description: "The node's serverId, pool, heartbeat interval, assertion key and approval.", schema: enrolResponseSchema }, errors: ["CONFLICT", "PAYLOAD_TOO_LARGE"],
  },
  {
    method: "post", path: "/v1/agent/rekey", operationId: "rekeyNode", summary: "Replace a node's own key", tag: "agent", auth: "node",
    description: "Signed with the node's current key like a heartbeat (`aud` broker:rekey, `seq`, `bh`). The node keeps its serverId; its key, origin (checked against the pool's rules) and assertion key change, and the old key stops working at once.",
    body: rekeyRequestSchema, response: { status: 201, description: "As enrolment answers.", schema: enrolResponseSchema }, errors: ["CONFLICT", "HEARTBEAT_STALE", "PAYLOAD_TOO_LARGE"],
  },
  {
    method: "post", path: "/v1/agent/heartbeat", operationId: "heartbeat", summary: "Report a node's state", tag: "agent", auth: "node",
    description: "The bearer JWT (EdDSA, `iss` serverId, `aud` broker:heartbeat, `pool`, `seq`, `bh` = base64url SHA-256 of the body) binds the token to the exact body. Bodies are capped at 64 KiB.",
    body: heartbeatBodySchema, response: { status: 200, description: "The node's status as the broker sees it.", schema: heartbeatReplySchema }, errors: ["HEARTBEAT_STALE", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"],
  },
  {
    method: "get", path: "/v1/agent/channel", operationId: "openChannel", summary: "Open a node's control channel (WebSocket)", tag: "agent", auth: "node",
    description:
      "A WebSocket upgrade signed like a heartbeat (`aud` broker:channel, `seq` spent, `bh` of no bytes), accepted by the pool's object with the Hibernation API; a newer channel of the node replaces the older (4001), removing the node closes it (4002), re-keying it too (4003). Messages are JSON text frames (src/channel-protocol.ts): requests `{ id, method, params }` both ways, answers `{ id, ok, result | error }`; docs/architecture.md describes them.",
    response: { status: 101, description: "Switching protocols: the channel.", mediaType: null }, errors: ["UPGRADE_REQUIRED", "HEARTBEAT_STALE"],
  },
];

const users: RouteSpec[] = [
  {
    method: "post", path: "/v1/auth/login", operationId: "signIn", summary: "Sign in a broker-managed user", tag: "auth", auth: "none",
    body: signInSchema, response: { status: 200, description: "`{ token, expiresAt, user }`: a session token for `Authorization: Bearer`." }, errors: ["UNAUTHORIZED", "RATE_LIMITED"],
  },
  { method: "get", path: "/v1/auth/me", operationId: "whoAmI", summary: "The caller's identity", tag: "auth", auth: "user", response: { status: 200, description: "`{ login, groups, isAdmin, isManager, source }`." } },
  { method: "get", path: "/v1/profiles", operationId: "myProfiles", summary: "Profiles the caller may use", tag: "sessions", auth: "user", response: { status: 200, description: "`{ profiles: [{ id, name, pool, mode, command }] }`, ACLs applied." } },
  ...sessionRoutes(PLACEMENT_ERRORS),
  {
    method: "post", path: "/v1/pools/{pool}/select", operationId: "select", summary: "Choose a server and reserve it", tag: "placement", auth: "user",
    description:
      "Runs the pool's chain. Admins may select for any `user`, with or without a `profileId`; a user selects as themselves and must name a `profileId` of this pool that admits them (its ACL, policy, hosts and per-user limit apply; rate-limited like starts).",
    params: selectParamSchema, body: poolSelectBodySchema,
    response: { status: 200, description: "`{ serverId, hostname, clientAddress, reason, trace, resumeSessionId?, reservationId? }`." },
    errors: ["BAD_REQUEST", "FORBIDDEN", "NOT_FOUND", ...PLACEMENT_ERRORS],
  },
  {
    method: "get", path: "/v1/relay/{serverId}", operationId: "relay", summary: "WebSocket to a node's desktop", tag: "relay", auth: "relayTicket",
    description:
      "A WebSocket upgrade passed through to the node. The ticket comes as `?ticket=` or as the subprotocol `broker-ticket.<ticket>` (never passed to the node); " +
      "the 101 selects the node's choice among the other offered subprotocols, or the ticket's entry when the node chose none. " +
      "A new session whose node cannot be reached is placed once more as the start placed it (same profile ACL, policy and hosts).",
    params: relayParamSchema, response: { status: 101, description: "Switching protocols: the node's WebSocket.", mediaType: null },
    errors: ["FORBIDDEN", "NOT_FOUND", "UPGRADE_REQUIRED", "ORIGIN_UNREACHABLE"],
  },
];

const pools: RouteSpec[] = [
  { method: "get", path: "/v1/admin/pools", operationId: "listPools", summary: "Every pool", tag: "admin: pools", auth: "admin", response: { status: 200, description: "`{ pools: [{ name, intervalMs, createdAt, policy, originPatterns, allowPrivateOrigins, requireApproval }] }`." } },
  { method: "post", path: "/v1/admin/pools", operationId: "createPool", summary: "Create a pool", tag: "admin: pools", auth: "admin", body: createPoolBodySchema, response: { status: 201, description: "The pool." }, errors: ["CONFLICT"] },
  { method: "get", path: "/v1/admin/pools/{pool}", operationId: "getPool", summary: "One pool", tag: "admin: pools", auth: "admin", params: poolParam, response: { status: 200, description: "The pool." }, errors: ["NOT_FOUND"] },
  {
    method: "patch", path: "/v1/admin/pools/{pool}", operationId: "updatePool", summary: "Change a pool's settings", tag: "admin: pools", auth: "admin",
    description: "Heartbeat interval, origin patterns (`*.nodes.example.com`; node origins outside them are refused at enrolment and by the relay), private origins (local runs only), and whether new nodes wait for approval.",
    params: poolParam, body: updatePoolBodySchema, response: { status: 200, description: "The pool; agents get the interval in their next reply." }, errors: ["NOT_FOUND"],
  },
  {
    method: "post", path: "/v1/admin/pools/{pool}/enrolment-tokens", operationId: "issueEnrolmentToken", summary: "Issue a one-time enrolment token", tag: "admin: pools", auth: "admin",
    params: poolParam, body: enrolmentTokenBodySchema, response: { status: 201, description: "`{ token, pool, expiresAt, preApproved }`: the token is shown once. A node enrolled with it is always new (never takes over an enrolled hostname or origin)." }, errors: ["NOT_FOUND"],
  },
  {
    method: "get", path: "/v1/admin/pools/{pool}/export", operationId: "exportPoolConfig", summary: "Export a pool's configuration", tag: "admin: config", auth: "admin",
    description: "Interval, policy, profiles and per-node settings (static data overrides, draining) by hostname. No keys, tokens or other secrets.",
    params: poolParam, response: { status: 200, description: "The configuration document.", schema: configDocumentSchema }, errors: ["NOT_FOUND"],
  },
  {
    method: "post", path: "/v1/admin/pools/{pool}/import", operationId: "importPoolConfig", summary: "Import a pool's configuration", tag: "admin: config", auth: "admin",
    description: "Creates the pool if missing, sets its interval and policy, creates or replaces the profiles, and applies node settings to nodes of the same hostname enrolled in the pool (others are listed as skipped). Everything is checked before anything changes; a refusal lists every problem.",
    params: poolParam, body: configDocumentSchema,
    response: { status: 200, description: "`{ pool, imported: { pool, profilesCreated, profilesReplaced, nodesUpdated, nodesUnchanged }, skipped: [{ hostname, reason }] }`." },
    errors: ["CONFLICT", "UNSUPPORTED_MEDIA_TYPE"],
  },
];

const servers: RouteSpec[] = [
  { method: "get", path: "/v1/admin/pools/{pool}/servers", operationId: "listServers", summary: "A pool's servers, live", tag: "admin: servers", auth: "admin", params: poolParam, response: { status: 200, description: "`{ servers: [...] }`: status, last seen, load, memory, sessions, static data." }, errors: ["NOT_FOUND"] },
  { method: "get", path: "/v1/admin/pools/{pool}/servers/{serverId}", operationId: "getServer", summary: "One server, live", tag: "admin: servers", auth: "admin", params: serverParam, response: { status: 200, description: "The server." }, errors: ["NOT_FOUND"] },
  {
    method: "post", path: "/v1/admin/pools/{pool}/servers/{serverId}/approve", operationId: "approveServer", summary: "Approve a pending server", tag: "admin: servers", auth: "admin",
    description: "In a pool that requires approval, a new node stays `pending` (no placements, its sessions never offered) until approved here. Idempotent.",
    params: serverParam, response: { status: 200, description: "The server." }, errors: ["NOT_FOUND"],
  },
  {
    method: "post", path: "/v1/admin/pools/{pool}/servers/{serverId}/rekey-tokens", operationId: "issueRekeyToken", summary: "Issue a one-time re-key token for one server", tag: "admin: servers", auth: "admin",
    description: "`agent enroll --token` with it keeps the server's id and approval, and replaces its key, origin and assertion key; the old key stops working at once.",
    params: serverParam, body: rekeyTokenBodySchema, response: { status: 201, description: "`{ token, pool, serverId, expiresAt, preApproved }`: the token is shown once." }, errors: ["NOT_FOUND"],
  },
  { method: "post", path: "/v1/admin/pools/{pool}/servers/{serverId}/drain", operationId: "drainServer", summary: "Drain a server (no new sessions)", tag: "admin: servers", auth: "admin", params: serverParam, response: { status: 200, description: "The server." }, errors: ["NOT_FOUND"] },
  { method: "post", path: "/v1/admin/pools/{pool}/servers/{serverId}/undrain", operationId: "undrainServer", summary: "Stop draining a server", tag: "admin: servers", auth: "admin", params: serverParam, response: { status: 200, description: "The server." }, errors: ["NOT_FOUND"] },
  {
    method: "put", path: "/v1/admin/pools/{pool}/servers/{serverId}/static-data", operationId: "setStaticData", summary: "Set a server's static data overrides", tag: "admin: servers", auth: "admin",
    params: serverParam, body: staticDataBodySchema, response: { status: 200, description: "The server; overrides are merged over the agent's static data." }, errors: ["NOT_FOUND"],
  },
  { method: "delete", path: "/v1/admin/pools/{pool}/servers/{serverId}", operationId: "removeServer", summary: "Remove a server; its key stops working and its channel closes", tag: "admin: servers", auth: "admin", params: serverParam, response: { status: 204, description: "Removed.", mediaType: null }, errors: ["NOT_FOUND"] },
  {
    method: "post", path: "/v1/admin/pools/{pool}/servers/{serverId}/ping", operationId: "pingServer", summary: "Round trip to a server over its control channel", tag: "admin: servers", auth: "admin",
    params: serverParam, response: { status: 200, description: "`{ rttMs }` as the pool object measured it (whole ms).", schema: z.object({ rttMs: z.number().int().nonnegative() }) }, errors: [...COMMAND_ERRORS],
  },
  {
    method: "post", path: "/v1/admin/pools/{pool}/servers/{serverId}/disconnect", operationId: "disconnectOnServer", summary: "End live relayed connections on one server", tag: "admin: servers", auth: "admin",
    description: "`{ sessionId }` ends that session's connections, `{ user }` that broker login's, on this server. Clients see close code 4000 with `reason` (default \"disconnected by an administrator\"); the desktop session keeps running.",
    params: serverParam, body: serverDisconnectBodySchema, response: { status: 200, description: "`{ closed }`: how many connections the server closed.", schema: z.object({ closed: z.number().int().nonnegative() }) }, errors: [...COMMAND_ERRORS],
  },
];

const policies: RouteSpec[] = [
  { method: "get", path: "/v1/admin/pools/{pool}/policy", operationId: "getPolicy", summary: "A pool's balancing policy", tag: "admin: policies", auth: "admin", params: poolParam, response: { status: 200, description: "`{ policy, isDefault }`." }, errors: ["NOT_FOUND"] },
  {
    method: "put", path: "/v1/admin/pools/{pool}/policy", operationId: "putPolicy", summary: "Save a pool's balancing policy", tag: "admin: policies", auth: "admin",
    description: "Validated (schema, script syntax, a dry run) before anything changes; `null` restores the default chain.",
    params: poolParam, body: putPolicyBodySchema, response: { status: 200, description: "`{ policy, dryRun }`." }, errors: ["NOT_FOUND"],
  },
  {
    method: "post", path: "/v1/admin/pools/{pool}/dry-run", operationId: "dryRun", summary: "Which server would this user get, and why", tag: "admin: policies", auth: "admin",
    description: "Runs the pool's chain (or `policy`) without reserving or logging anything.", params: poolParam, body: dryRunBodySchema,
    response: { status: 200, description: "`{ ok, serverId?, hostname?, reason?, code?, message?, trace }`." }, errors: ["NOT_FOUND"],
  },
  { method: "get", path: "/v1/admin/pools/{pool}/decisions", operationId: "recentDecisions", summary: "Recent decisions with their traces", tag: "admin: policies", auth: "admin", params: poolParam, query: decisionsQuerySchema, response: { status: 200, description: "`{ decisions: [...] }`, newest first." }, errors: ["NOT_FOUND"] },
];

const admins: RouteSpec[] = [
  { method: "get", path: "/v1/admin/users", operationId: "listUsers", summary: "Broker-managed users", tag: "admin: users", auth: "admin", response: { status: 200, description: "`{ users: [{ login, groups, isAdmin, disabled, createdAt, updatedAt }] }` (never a password hash)." } },
  { method: "post", path: "/v1/admin/users", operationId: "createUser", summary: "Create a user", tag: "admin: users", auth: "admin", body: createUserSchema, response: { status: 201, description: "The user." }, errors: ["CONFLICT"] },
  { method: "get", path: "/v1/admin/users/{login}", operationId: "getUser", summary: "One user", tag: "admin: users", auth: "admin", params: loginParam, response: { status: 200, description: "The user." }, errors: ["NOT_FOUND"] },
  {
    method: "patch", path: "/v1/admin/users/{login}", operationId: "updateUser", summary: "Change a user", tag: "admin: users", auth: "admin",
    description: "A new password, disabling or deleting ends the user's session tokens; disabling also ends their live relayed connections on every connected server.", params: loginParam, body: updateUserSchema, response: { status: 200, description: "The user." }, errors: ["NOT_FOUND"],
  },
  { method: "delete", path: "/v1/admin/users/{login}", operationId: "deleteUser", summary: "Delete a user", tag: "admin: users", auth: "admin", params: loginParam, response: { status: 204, description: "Deleted; their session tokens and live relayed connections end at once.", mediaType: null }, errors: ["NOT_FOUND"] },
  {
    method: "post", path: "/v1/admin/users/{login}/disconnect", operationId: "disconnectUser", summary: "End a user's live relayed connections everywhere", tag: "admin: users", auth: "admin",
    description: "Any login the relay named (broker-managed or single sign-on). Every server with a connected channel, in every pool, is asked at once. Clients see close code 4000 with `reason`.",
    params: anyLoginParam, body: userDisconnectBodySchema,
    response: { status: 200, description: "`{ nodes, closed, failed: [{ pool, serverId, code, message }] }`: servers asked, connections closed, servers that did not confirm." },
  },
  { method: "get", path: "/v1/admin/profiles", operationId: "listProfiles", summary: "Session profiles", tag: "admin: profiles", auth: "adminToken", query: listQuery, response: { status: 200, description: "`{ profiles: [...] }`, ordered by id.", schema: z.object({ profiles: z.array(storedProfile) }) }, errors: ["NOT_FOUND"] },
  { method: "post", path: "/v1/admin/profiles", operationId: "createProfile", summary: "Create a profile", tag: "admin: profiles", auth: "adminToken", body: profileSchema, response: { status: 201, description: "The profile.", schema: storedProfile }, errors: ["CONFLICT"] },
  {
    method: "post", path: "/v1/admin/profiles/import", operationId: "importX2goProfiles", summary: "Import an X2Go session profiles file", tag: "admin: profiles", auth: "adminToken",
    description: "All or nothing. `replace=true` makes the pool's profiles exactly the file's.", query: importQuery,
    body: { mediaType: "text/plain", description: "An `x2gobroker-sessionprofiles.conf` (at most 256 KiB)." },
    response: { status: 200, description: "`{ imported: [ids], warnings: [...] }`." }, errors: ["NOT_FOUND", "CONFLICT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"],
  },
  { method: "get", path: "/v1/admin/profiles/{id}", operationId: "getProfile", summary: "One profile", tag: "admin: profiles", auth: "adminToken", params: idParam, response: { status: 200, description: "The profile.", schema: storedProfile }, errors: ["NOT_FOUND"] },
  { method: "put", path: "/v1/admin/profiles/{id}", operationId: "replaceProfile", summary: "Replace a profile", tag: "admin: profiles", auth: "adminToken", params: idParam, body: profileBodySchema, response: { status: 200, description: "The profile.", schema: storedProfile }, errors: ["NOT_FOUND"] },
  { method: "delete", path: "/v1/admin/profiles/{id}", operationId: "deleteProfile", summary: "Delete a profile", tag: "admin: profiles", auth: "adminToken", params: idParam, response: { status: 204, description: "Deleted.", mediaType: null }, errors: ["NOT_FOUND"] },
];

/** Every documented route, in the order the reference shows them. */
export const ROUTES: readonly RouteSpec[] = [...meta, ...agent, ...users, ...queueRoutes, ...tunnelRoutes, ...pools, ...servers, ...policies, ...admins];
