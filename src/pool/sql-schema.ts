/**
 * The pool object's SQLite tables (docs/storage.md), as numbered migrations applied once each, in
 * order, when the object starts. `meta.schema_version` holds how many have run. Migration 1 is
 * written with IF NOT EXISTS so objects created before versioning adopt it unchanged.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS nodes (
    server_id TEXT PRIMARY KEY,
    hostname TEXT NOT NULL,
    public_key_jwk TEXT NOT NULL,
    origin_url TEXT NOT NULL,
    client_address TEXT,
    static_overrides TEXT NOT NULL DEFAULT '{}',
    draining INTEGER NOT NULL DEFAULT 0,
    enrolled_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'down',
    last_seen_at INTEGER,
    last_seq INTEGER NOT NULL DEFAULT 0,
    live TEXT
  );
  CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY,
    server_id TEXT NOT NULL,
    user TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    baseline_sessions INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS reservations_server ON reservations (server_id);
  CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    user TEXT NOT NULL,
    ok INTEGER NOT NULL,
    server_id TEXT,
    reason TEXT NOT NULL,
    resume_session_id TEXT,
    trace TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS spent_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
  `,
  // Node approval and per-node assertion keys (the catalogue's columns of the same names).
  `
  ALTER TABLE nodes ADD COLUMN approved INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE nodes ADD COLUMN assertion_salt TEXT NOT NULL DEFAULT '';
  CREATE INDEX IF NOT EXISTS reservations_user ON reservations (user);
  CREATE INDEX IF NOT EXISTS decisions_user ON decisions (user);
  `,
  // A launched session's reservation carries what its launcher answered (JSON), until a beat lists it.
  `
  ALTER TABLE reservations ADD COLUMN launch TEXT;
  `,
  // The wait line (wait-line.ts): starts waiting for a free server, first come first served.
  `
  CREATE TABLE wait_line (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    user TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    deadline_at INTEGER NOT NULL,
    start TEXT NOT NULL,
    status TEXT NOT NULL,
    placed TEXT,
    failed TEXT,
    settled_at INTEGER
  );
  `,
];

export const POOL_SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the object's tables to `POOL_SCHEMA_VERSION`. Synchronous; call before any store reads. */
export function migratePoolSchema(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const [row] = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").toArray();
  const applied = row ? Number(row.value) : 0;
  for (let version = applied; version < MIGRATIONS.length; version++) {
    sql.exec(MIGRATIONS[version] as string);
    sql.exec(
      "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      String(version + 1),
    );
  }
}
