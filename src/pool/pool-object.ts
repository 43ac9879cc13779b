/**
 * One Durable Object per pool: the authority for which nodes are up right now. It stores the
 * live state of its nodes in SQLite (surviving eviction), verifies heartbeats with each node's
 * enrolled key, and runs the liveness alarm. Decisions live in pure modules (liveness,
 * server-view, balancer); this class only stores and coordinates.
 */
import { DurableObject } from "cloudflare:workers";
import { importNodeKey, verifyNodeToken } from "../auth/node-token.ts";
import { findNodeInPool, findPool } from "../db/queries.ts";
import type { Env } from "../env.ts";
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  type Ed25519PublicJwk,
  type HeartbeatBody,
  type HeartbeatReply,
  type StaticData,
} from "../protocol.ts";
import { expiredNodes, nextAlarmAt } from "./liveness.ts";
import { nodeRecordFromRow } from "./node-record.ts";
import { fail, ok, type RpcResult } from "./rpc-result.ts";
import { type AdminServerView, nodeStatus, toServerView } from "./server-view.ts";
import { type NodeAuth, type NodeRecord, PoolStore } from "./store.ts";

export interface HeartbeatInput {
  pool: string;
  serverId: string;
  token: string;
  /** base64url SHA-256 of the raw body, computed by the Worker. */
  bodyHash: string;
  body: HeartbeatBody;
}

function staleBeat<T>(): RpcResult<T> {
  return fail("HEARTBEAT_STALE", "heartbeat sequence number is not above the last accepted one");
}

export class PoolObject extends DurableObject<Env> {
  private readonly store: PoolStore;
  private readonly keys = new Map<string, { jwk: string; key: CryptoKey }>();
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new PoolStore(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Sets the pool's name and heartbeat interval (idempotent). */
  async configure(pool: string, intervalMs: number): Promise<void> {
    this.store.setMeta("pool", pool);
    this.store.setMeta("interval_ms", String(intervalMs));
  }

  /** Adds or re-keys a node after enrolment; a new key resets its heartbeat sequence. */
  async registerNode(pool: string, intervalMs: number, record: NodeRecord): Promise<void> {
    await this.configure(pool, intervalMs);
    this.store.upsertNode(record);
    this.keys.delete(record.serverId);
  }

  /**
   * Verifies and records one heartbeat. Refused beats (bad token, replayed or reordered seq)
   * change nothing. Never writes D1.
   */
  async recordHeartbeat(input: HeartbeatInput): Promise<RpcResult<HeartbeatReply>> {
    const node = this.store.getNodeAuth(input.serverId) ?? (await this.loadNodeFromCatalogue(input.pool, input.serverId));
    if (!node) {
      console.warn(`heartbeat refused: unknown node ${input.serverId} in pool ${input.pool}`);
      return fail("UNAUTHORIZED", "authentication required or invalid");
    }
    const nowMs = Date.now();
    const verdict = await verifyNodeToken({
      token: input.token,
      key: await this.nodeKey(node),
      serverId: node.serverId,
      pool: input.pool,
      bodyHash: input.bodyHash,
      lastSeq: node.lastSeq,
      nowSeconds: Math.floor(nowMs / 1000),
    });
    if (!verdict.ok) {
      console.warn(`heartbeat refused for ${input.serverId}: ${verdict.reason}: ${verdict.detail}`);
      return verdict.reason === "stale-sequence" ? staleBeat() : fail("UNAUTHORIZED", "authentication required or invalid");
    }
    // Verification awaited, so another beat, a re-key or a removal may have run meanwhile:
    // re-read and re-check synchronously right before the write.
    const current = this.store.getNodeAuth(node.serverId);
    if (!current || current.publicKeyJwk !== node.publicKeyJwk) return fail("UNAUTHORIZED", "authentication required or invalid");
    if (verdict.claims.seq <= current.lastSeq) return staleBeat();
    this.store.recordHeartbeat(node.serverId, verdict.claims.seq, nowMs, input.body);
    await this.ensureAlarm();
    return ok({ status: nodeStatus({ status: "up", draining: current.draining }), draining: current.draining, intervalMs: this.intervalMs() });
  }

  async listServers(): Promise<AdminServerView[]> {
    const pool = this.poolName();
    return this.store.listNodes().map((node) => toServerView(node, pool, 0));
  }

  async getServer(serverId: string): Promise<RpcResult<AdminServerView>> {
    const node = this.store.getNode(serverId);
    return node ? ok(toServerView(node, this.poolName(), 0)) : fail("NOT_FOUND", `no server ${serverId} in this pool`);
  }

  async setDraining(serverId: string, draining: boolean): Promise<RpcResult<AdminServerView>> {
    if (!this.store.getNode(serverId)) return fail("NOT_FOUND", `no server ${serverId} in this pool`);
    this.store.setDraining(serverId, draining);
    return this.getServer(serverId);
  }

  async setStaticOverrides(serverId: string, overrides: StaticData): Promise<RpcResult<AdminServerView>> {
    if (!this.store.getNode(serverId)) return fail("NOT_FOUND", `no server ${serverId} in this pool`);
    this.store.setStaticOverrides(serverId, overrides);
    return this.getServer(serverId);
  }

  /** Forgets a node; its key stops working at once. Idempotent. */
  async removeNode(serverId: string): Promise<void> {
    this.store.deleteNode(serverId);
    this.keys.delete(serverId);
  }

  async setIntervalMs(intervalMs: number): Promise<void> {
    this.store.setMeta("interval_ms", String(intervalMs));
  }

  /** Liveness: marks overdue nodes down and schedules the next check. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const intervalMs = this.intervalMs();
    const nodes = this.store.listNodes();
    const expired = expiredNodes(nodes, intervalMs, Date.now());
    this.store.markDown(expired);
    if (expired.length > 0) console.log(`pool ${this.poolName()}: marked down ${expired.join(", ")}`);
    await this.ensureAlarm();
  }

  private async ensureAlarm(): Promise<void> {
    if (this.alarmAt !== null) return;
    const next = nextAlarmAt(this.store.listNodes(), this.intervalMs());
    if (next === null) return;
    this.alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }

  private intervalMs(): number {
    const stored = Number(this.store.getMeta("interval_ms"));
    return Number.isInteger(stored) && stored > 0 ? stored : DEFAULT_HEARTBEAT_INTERVAL_MS;
  }

  private poolName(): string {
    return this.store.getMeta("pool") ?? "";
  }

  private async nodeKey(node: NodeAuth): Promise<CryptoKey> {
    const cached = this.keys.get(node.serverId);
    if (cached && cached.jwk === node.publicKeyJwk) return cached.key;
    const key = await importNodeKey(JSON.parse(node.publicKeyJwk) as Ed25519PublicJwk);
    this.keys.set(node.serverId, { jwk: node.publicKeyJwk, key });
    return key;
  }

  /**
   * Recovers a node the catalogue has but this object does not (enrolment's object call failed,
   * or storage was reset). Runs only for unknown serverIds, never on the steady-state path.
   */
  private async loadNodeFromCatalogue(pool: string, serverId: string): Promise<NodeAuth | null> {
    const stored = this.store.getMeta("pool");
    if (stored !== null && stored !== pool) return null;
    const [row, poolRow] = await Promise.all([findNodeInPool(this.env.DB, pool, serverId), findPool(this.env.DB, pool)]);
    if (!row || !poolRow) return null;
    await this.registerNode(pool, poolRow.intervalMs, nodeRecordFromRow(row));
    return this.store.getNodeAuth(serverId);
  }
}
