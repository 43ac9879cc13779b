/**
 * The pool Durable Object's `nodes` table (see docs/storage.md), with a write-through copy in
 * memory: reads never touch SQLite (a select reads every node, and 1,000 rows cost ~4 ms to read
 * and parse), writes go to both. Synchronous, so no two calls interleave. Whoever edits the
 * table behind the store's back must restart the object (tests evict it).
 */
import type { Ed25519PublicJwk, HeartbeatBody, StaticData } from "../protocol.ts";

export interface NodeRecord {
  serverId: string;
  hostname: string;
  publicKey: Ed25519PublicJwk;
  originUrl: string;
  clientAddress: string | null;
  staticOverrides: StaticData;
  draining: boolean;
  enrolledAt: number;
  /** False while the node waits for an admin's approval. */
  approved: boolean;
  /** Salt of the node's assertion key (see src/tokens/node-assertion.ts). */
  assertionSalt: string;
}

export interface StoredNode extends NodeRecord {
  /** The public key exactly as stored, to compare without re-serialising. */
  publicKeyJwk: string;
  status: "up" | "down";
  lastSeenAt: number | null;
  lastSeq: number;
  live: HeartbeatBody | null;
}

export interface NodeAuth {
  serverId: string;
  /** The enrolled public key as stored (JSON text): compared as text, parsed only on a cache miss. */
  publicKeyJwk: string;
  lastSeq: number;
  draining: boolean;
  approved: boolean;
}

interface NodeSqlRow extends Record<string, SqlStorageValue> {
  server_id: string;
  hostname: string;
  public_key_jwk: string;
  origin_url: string;
  client_address: string | null;
  static_overrides: string;
  draining: number;
  enrolled_at: number;
  approved: number;
  assertion_salt: string;
  status: string;
  last_seen_at: number | null;
  last_seq: number;
  live: string | null;
}

export class NodeStore {
  private readonly sql: SqlStorage;
  private readonly nodes = new Map<string, StoredNode>();

  constructor(sql: SqlStorage) {
    this.sql = sql;
    for (const row of this.sql.exec<NodeSqlRow>("SELECT * FROM nodes").toArray()) this.nodes.set(row.server_id, fromRow(row));
  }

  getNode(serverId: string): StoredNode | null {
    return this.nodes.get(serverId) ?? null;
  }

  /** The few fields a heartbeat check needs. */
  getNodeAuth(serverId: string): NodeAuth | null {
    const node = this.nodes.get(serverId);
    return node ? { serverId, publicKeyJwk: node.publicKeyJwk, lastSeq: node.lastSeq, draining: node.draining, approved: node.approved } : null;
  }

  /** Every node, ordered by hostname. */
  listNodes(): StoredNode[] {
    return [...this.nodes.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  }

  /** Every node in no particular order, without a copy: for scans on every beat (a sorted copy of 1,000 nodes costs ~0.2 ms). */
  eachNode(): Iterable<StoredNode> {
    return this.nodes.values();
  }

  /** Inserts or replaces a node's catalogue fields; a new key restarts the sequence. */
  upsertNode(node: NodeRecord): void {
    this.sql.exec(
      `INSERT INTO nodes (server_id, hostname, public_key_jwk, origin_url, client_address, static_overrides, draining, enrolled_at, approved, assertion_salt)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(server_id) DO UPDATE SET
         hostname = excluded.hostname,
         last_seq = CASE WHEN nodes.public_key_jwk = excluded.public_key_jwk THEN nodes.last_seq ELSE 0 END,
         public_key_jwk = excluded.public_key_jwk,
         origin_url = excluded.origin_url,
         client_address = excluded.client_address,
         static_overrides = excluded.static_overrides,
         draining = excluded.draining,
         enrolled_at = excluded.enrolled_at,
         approved = excluded.approved,
         assertion_salt = excluded.assertion_salt`,
      node.serverId,
      node.hostname,
      JSON.stringify(node.publicKey),
      node.originUrl,
      node.clientAddress,
      JSON.stringify(node.staticOverrides),
      node.draining ? 1 : 0,
      node.enrolledAt,
      node.approved ? 1 : 0,
      node.assertionSalt,
    );
    const [row] = this.sql.exec<NodeSqlRow>("SELECT * FROM nodes WHERE server_id = ?", node.serverId).toArray();
    if (row) this.nodes.set(node.serverId, fromRow(row));
  }

  /** Stores an accepted beat: the node is up, seen now, at `seq`, with this live state. */
  saveBeat(serverId: string, seq: number, nowMs: number, live: HeartbeatBody): void {
    this.sql.exec(
      "UPDATE nodes SET status = 'up', last_seen_at = ?, last_seq = ?, live = ? WHERE server_id = ?",
      nowMs,
      seq,
      JSON.stringify(live),
      serverId,
    );
    this.patch(serverId, { status: "up", lastSeenAt: nowMs, lastSeq: seq, live });
  }

  /** Drops one session from the node's last beat (it was terminated): it leaves the lists before the next beat. */
  forgetSession(serverId: string, sessionId: string): void {
    const live = this.nodes.get(serverId)?.live;
    if (!live || !live.sessions.some((session) => session.id === sessionId)) return;
    const next = { ...live, sessions: live.sessions.filter((session) => session.id !== sessionId) };
    this.sql.exec("UPDATE nodes SET live = ? WHERE server_id = ?", JSON.stringify(next), serverId);
    this.patch(serverId, { live: next });
  }

  /** Stores an accepted re-key request's `seq` (the new key is registered separately). */
  saveSeq(serverId: string, seq: number): void {
    this.sql.exec("UPDATE nodes SET last_seq = ? WHERE server_id = ?", seq, serverId);
    this.patch(serverId, { lastSeq: seq });
  }

  markDown(serverIds: string[]): void {
    for (const serverId of serverIds) {
      this.sql.exec("UPDATE nodes SET status = 'down' WHERE server_id = ?", serverId);
      this.patch(serverId, { status: "down" });
    }
  }

  setDraining(serverId: string, draining: boolean): void {
    this.sql.exec("UPDATE nodes SET draining = ? WHERE server_id = ?", draining ? 1 : 0, serverId);
    this.patch(serverId, { draining });
  }

  setApproved(serverId: string): void {
    this.sql.exec("UPDATE nodes SET approved = 1 WHERE server_id = ?", serverId);
    this.patch(serverId, { approved: true });
  }

  setStaticOverrides(serverId: string, overrides: StaticData): void {
    this.sql.exec("UPDATE nodes SET static_overrides = ? WHERE server_id = ?", JSON.stringify(overrides), serverId);
    this.patch(serverId, { staticOverrides: overrides });
  }

  deleteNode(serverId: string): void {
    this.sql.exec("DELETE FROM nodes WHERE server_id = ?", serverId);
    this.nodes.delete(serverId);
  }

  private patch(serverId: string, changes: Partial<StoredNode>): void {
    const node = this.nodes.get(serverId);
    if (node) this.nodes.set(serverId, { ...node, ...changes });
  }
}

function fromRow(row: NodeSqlRow): StoredNode {
  return {
    serverId: row.server_id,
    hostname: row.hostname,
    publicKey: JSON.parse(row.public_key_jwk) as Ed25519PublicJwk,
    publicKeyJwk: row.public_key_jwk,
    originUrl: row.origin_url,
    clientAddress: row.client_address,
    staticOverrides: JSON.parse(row.static_overrides) as StaticData,
    draining: row.draining === 1,
    enrolledAt: row.enrolled_at,
    approved: row.approved === 1,
    assertionSalt: row.assertion_salt,
    status: row.status === "up" ? "up" : "down",
    lastSeenAt: row.last_seen_at,
    lastSeq: row.last_seq,
    live: row.live === null ? null : (JSON.parse(row.live) as HeartbeatBody),
  };
}
