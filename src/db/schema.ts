/**
 * The D1 catalogue: what changes on admin action or enrolment, never per heartbeat.
 * Timestamps are epoch milliseconds. See docs/storage.md.
 */

import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const pools = sqliteTable("pools", {
  name: text("name").primaryKey(),
  intervalMs: integer("interval_ms").notNull(),
  createdAt: integer("created_at").notNull(),
  /** The balancing policy as the admin wrote it (JSON); null means the default chain. */
  policy: text("policy"),
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
    originUrl: text("origin_url").notNull(),
    clientAddress: text("client_address"),
    /** Admin overrides merged over the agent's static data (JSON object). */
    staticOverrides: text("static_overrides").notNull().default("{}"),
    draining: integer("draining", { mode: "boolean" }).notNull().default(false),
    enrolledAt: integer("enrolled_at").notNull(),
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
});

export type PoolRow = typeof pools.$inferSelect;
export type NodeRow = typeof nodes.$inferSelect;
export type EnrolmentTokenRow = typeof enrolmentTokens.$inferSelect;

