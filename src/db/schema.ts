/**
 * The D1 catalogue: what changes on admin action or enrolment, never per heartbeat.
 * Timestamps are epoch milliseconds. See docs/storage.md.
 */

import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const pools = sqliteTable("pools", {
  name: text("name").primaryKey(),
  intervalMs: integer("interval_ms").notNull(),
  createdAt: integer("created_at").notNull(),
  /** The balancing policy as the admin wrote it (JSON); null means the default chain. */
  policy: text("policy"),
  /** JSON array of hostname patterns (`*.nodes.example.com`) node origins must match (src/cluster/origin-policy.ts). */
  originPatterns: text("origin_patterns").notNull().default("[]"),
  /** Whether loopback, private, link-local and IP-literal origins (and plain http/ws to them) are allowed: local runs and tests. */
  allowPrivateOrigins: integer("allow_private_origins", { mode: "boolean" }).notNull().default(false),
  /** Whether a newly enrolled node stays `pending` until an admin approves it. */
  requireApproval: integer("require_approval", { mode: "boolean" }).notNull().default(true),
  /** Logon-storm admission: new sessions a node may have starting at once (null: no cap). */
  maxStartingPerNode: integer("max_starting_per_node"),
});

export const nodes = sqliteTable(
  "nodes",
  {
    serverId: text("server_id").primaryKey(),
    pool: text("pool")
      .notNull()
      .references(() => pools.name),
    hostname: text("hostname").notNull().unique(),
    /** The node's Ed25519 public key, a JWK as JSON text. */
    publicKeyJwk: text("public_key_jwk").notNull(),
    /** Normalised (`URL.href`); no two nodes share one. */
    originUrl: text("origin_url").notNull().unique(),
    clientAddress: text("client_address"),
    /** Admin overrides merged over the agent's static data (JSON object). */
    staticOverrides: text("static_overrides").notNull().default("{}"),
    draining: integer("draining", { mode: "boolean" }).notNull().default(false),
    enrolledAt: integer("enrolled_at").notNull(),
    /** False while the node waits for an admin's approval (pools with `require_approval`). */
    approved: integer("approved", { mode: "boolean" }).notNull().default(true),
    /**
     * Random per enrolment and re-key (hex): the node's assertion key is HMAC-SHA256(SIGNING_KEY,
     * serverId and this salt), so it changes on every re-key and D1 alone does not reveal it.
     */
    assertionSalt: text("assertion_salt").notNull().default(""),
  },
  (table) => [index("nodes_pool_idx").on(table.pool)],
);

export const enrolmentTokens = sqliteTable("enrolment_tokens", {
  /** SHA-256 of the token, hex; the token itself is shown once and never stored. */
  tokenHash: text("token_hash").primaryKey(),
  pool: text("pool")
    .notNull()
    .references(() => pools.name),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
  usedAt: integer("used_at"),
  usedBy: text("used_by"),
  /** Set on a re-key token: it re-keys this one node (of `pool`) and enrols nothing new. */
  serverId: text("server_id"),
  /** A node enrolled with this token needs no approval. */
  preApproved: integer("pre_approved", { mode: "boolean" }).notNull().default(false),
});

export type PoolRow = typeof pools.$inferSelect;
export type NodeRow = typeof nodes.$inferSelect;
export type EnrolmentTokenRow = typeof enrolmentTokens.$inferSelect;


/** Broker-managed users (small sites and the embedded default); OIDC users are not stored. */
export const users = sqliteTable("users", {
  login: text("login").primaryKey(),
  /** `pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>`. */
  passwordHash: text("password_hash").notNull(),
  /** JSON array of group names. */
  groups: text("groups").notNull().default("[]"),
  isAdmin: integer("is_admin", { mode: "boolean" }).notNull().default(false),
  disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Failed sign-ins per key in the current window (src/auth/login-guard.ts): `user:<login>`,
 * `pair:<login> <address>` or `ip:<address>`. Rows of past windows are purged as others are written.
 */
export const loginFailures = sqliteTable(
  "login_failures",
  {
    key: text("key").primaryKey(),
    windowStart: integer("window_start").notNull(),
    failures: integer("failures").notNull(),
  },
  (table) => [index("login_failures_window_start_idx").on(table.windowStart)],
);

/**
 * Where each login last signed in with its password (src/auth/login-guard.ts): such an address is
 * exempt from the per-login failure limit for a while, so guessing from elsewhere cannot lock the
 * owner out of it.
 */
export const knownSignInAddresses = sqliteTable(
  "known_sign_in_addresses",
  {
    login: text("login").notNull(),
    /** The address's counter key (`ip:<address>`, IPv6 per /64), or `no-address` for requests without one. */
    address: text("address").notNull(),
    lastSuccessAt: integer("last_success_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.login, table.address] }), index("known_sign_in_addresses_last_success_idx").on(table.lastSuccessAt)],
);

/** Session profiles (the X2Go broker's session profiles). */
export const profiles = sqliteTable(
  "profiles",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    pool: text("pool")
      .notNull()
      .references(() => pools.name),
    /** `relay` (through the broker) or `redirect` (the client connects to the node itself). */
    mode: text("mode").notNull(),
    /** JSON: the profile's host list, `[{ name, address?, port? }]`; empty means the whole pool. */
    hosts: text("hosts").notNull().default("[]"),
    command: text("command").notNull().default(""),
    /** JSON policy overriding the pool's, or null. */
    policy: text("policy"),
    /** JSON ACL: `{ users?: {allow, deny, order}, groups?: …, clients?: … }`. */
    acl: text("acl").notNull().default("{}"),
    /** JSON of further X2Go client keys (geometry, sound, …) passed through to X2Go clients. */
    x2goOptions: text("x2go_options").notNull().default("{}"),
    /** Sessions plus pending starts one user may hold in the pool when starting through this profile. */
    maxSessionsPerUser: integer("max_sessions_per_user").notNull().default(3),
    /** The node service users may reach through the relay with this profile (`ssh`, …), or null. */
    service: text("service"),
    /** JSON `{ name, params }`: the node launcher that creates each new session, or null. */
    launcher: text("launcher"),
    /** JSON `{ enabled, maxLength, maxWaitSeconds }`: the profile's wait line, or null. */
    queue: text("queue"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (table) => [index("profiles_pool_idx").on(table.pool)],
);

export type UserRow = typeof users.$inferSelect;
export type ProfileRow = typeof profiles.$inferSelect;

/**
 * AUTHID cookies of the X2Go broker protocol (src/x2go/cookies.ts): one-time, bound to a login
 * and a client address, each redeemed cookie replaced by a new one with the same deadline.
 */
export const x2goCookies = sqliteTable(
  "x2go_cookies",
  {
    /** SHA-256 of the cookie, hex; the cookie itself is handed out once and never stored. */
    cookieHash: text("cookie_hash").primaryKey(),
    login: text("login").notNull(),
    /** `CF-Connecting-IP` of the password login; "" when the request had none (local runs). */
    clientIp: text("client_ip").notNull(),
    /** Fingerprint of the user's password hash at the login: a password change ends the chain. */
    passwordVersion: text("password_version").notNull(),
    /** When the password login that started the chain happened; carried along the chain. */
    authAt: integer("auth_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (table) => [index("x2go_cookies_expires_idx").on(table.expiresAt)],
);

export type X2goCookieRow = typeof x2goCookies.$inferSelect;

/**
 * Dashboard sessions ended by signing out (src/ui/session.ts). The session cookie is a signed
 * token, so signing out must also refuse a copy of it; a row lives until the token would have
 * expired anyway, then it is purged.
 */
export const revokedUiSessions = sqliteTable(
  "revoked_ui_sessions",
  {
    /** The session token's `jti`. */
    sessionId: text("session_id").primaryKey(),
    /** The token's own expiry, ms since the epoch. */
    expiresAt: integer("expires_at").notNull(),
  },
  (table) => [index("revoked_ui_sessions_expires_idx").on(table.expiresAt)],
);
