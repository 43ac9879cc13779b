/**
 * The pool object's node side: its SQLite stores, its nodes (registration, heartbeats, admin
 * changes, liveness alarm) and their control channels (node-channels.ts). PoolObject
 * (pool-object.ts) adds placement, sessions and the relay on top. Decisions live in pure modules
 * (liveness, server-view, placement, the balancer); this class validates, calls one of them and
 * stores what it says. It never reads D1 on the heartbeat path (recovery is the Worker's).
 */
import { DurableObject } from "cloudflare:workers";
import type { DisconnectTarget } from "../channel-protocol.ts";
import type { OriginRules } from "../cluster/origin-policy.ts";
import { configureLog, log } from "../core/log.ts";
import { err, ok, type Result } from "../core/result.ts";
import type { Env } from "../env.ts";
import { HEARTBEAT_AUDIENCE, type HeartbeatBody, type HeartbeatReply, REKEY_AUDIENCE, type StaticData } from "../protocol.ts";
import { expiredNodes, nextAlarmAt } from "./liveness.ts";
import { type DisconnectReport, NodeChannels } from "./node-channels.ts";
import { type NodeAuth, type NodeRecord, NodeStore } from "./node-store.ts";
import { type NodeRequestInput, NodeRequests } from "./node-requests.ts";
import { NonceStore } from "./nonce-store.ts";
import { launchedByServer } from "./launches.ts";
import { confirmedReservations, pendingByServer } from "./placement.ts";
import { PlacementStore } from "./placement-store.ts";
import type { CommandFailure, PoolFailure } from "./pool-failure.ts";
import { PoolMeta } from "./pool-meta.ts";
import { type AdminServerView, nodeStatus, toServerView } from "./server-view.ts";
import { migratePoolSchema } from "./sql-schema.ts";

export type { NodeRequestInput } from "./node-requests.ts";

export interface HeartbeatInput extends NodeRequestInput {
  body: HeartbeatBody;
}

/** What the object keeps of its pool's catalogue row. */
export interface PoolSettings {
  pool: string;
  intervalMs: number;
  originRules: OriginRules;
  /** Absent from callers that predate the setting: the cap is left as it is. */
  maxStartingPerNode?: number | null;
}

export class PoolNodesObject extends DurableObject<Env> {
  protected readonly meta: PoolMeta;
  protected readonly nodes: NodeStore;
  protected readonly requests: NodeRequests;
  protected readonly placement: PlacementStore;
  protected readonly nonces: NonceStore;
  protected readonly channels: NodeChannels;
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureLog(env.LOG_LEVEL);
    migratePoolSchema(ctx.storage.sql);
    this.meta = new PoolMeta(ctx.storage.sql);
    this.nodes = new NodeStore(ctx.storage.sql);
    this.requests = new NodeRequests(this.nodes);
    this.placement = new PlacementStore(ctx.storage.sql);
    this.nonces = new NonceStore(ctx.storage.sql);
    this.channels = new NodeChannels(ctx, { nodes: this.nodes, requests: this.requests, beat: (node, body) => this.acceptBeat(node, node.lastSeq, body) });
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Sets the pool's name, heartbeat interval and origin rules, as the catalogue has them (idempotent). */
  async configure(settings: PoolSettings): Promise<void> {
    this.meta.pool = settings.pool;
    this.meta.intervalMs = settings.intervalMs;
    this.meta.originRules = settings.originRules;
    if (settings.maxStartingPerNode !== undefined) this.meta.maxStartingPerNode = settings.maxStartingPerNode;
    this.capacityChanged();
  }

  /** Adds or re-keys a node after enrolment (or recovery); a new key resets its sequence and closes its channel. */
  async registerNode(settings: PoolSettings, record: NodeRecord): Promise<void> {
    await this.configure(settings);
    const keyBefore = this.nodes.getNodeAuth(record.serverId)?.publicKeyJwk ?? null;
    this.nodes.upsertNode(record);
    this.requests.forget(record.serverId);
    this.channels.keyChanged(record.serverId, keyBefore);
  }

  /**
   * Verifies and records one heartbeat. Refused beats (bad token, replayed or reordered seq)
   * change nothing; a node this object does not hold is "unknown-node". Never touches D1.
   */
  async recordHeartbeat(input: HeartbeatInput): Promise<Result<HeartbeatReply, PoolFailure>> {
    const verdict = await this.requests.verify(input, HEARTBEAT_AUDIENCE);
    if (!verdict.ok) return verdict;
    return ok(await this.acceptBeat(verdict.value.node, verdict.value.seq, input.body));
  }

  /**
   * Verifies a re-key request signed with the node's current key (audience `broker:rekey`). It
   * consumes a sequence number like a heartbeat, so it cannot be replayed; the Worker then stores
   * the new key in the catalogue and registers it here.
   */
  async verifyRekey(input: NodeRequestInput): Promise<Result<null, PoolFailure>> {
    const verdict = await this.requests.verify(input, REKEY_AUDIENCE);
    if (!verdict.ok) return verdict;
    this.nodes.saveSeq(input.serverId, verdict.value.seq);
    return ok(null);
  }

  async listServers(): Promise<AdminServerView[]> {
    return this.serverViews();
  }

  async getServer(serverId: string): Promise<Result<AdminServerView, PoolFailure>> {
    const node = this.nodes.getNode(serverId);
    if (!node) return err("unknown-server");
    const nowMs = Date.now();
    const reservations = this.placement.reservationsFor(serverId, nowMs);
    const pending = pendingByServer(reservations).get(serverId) ?? 0;
    const launched = launchedByServer(reservations).get(serverId) ?? [];
    return ok(toServerView(node, this.meta.pool, pending, this.meta.originRules, this.channels.connected(nowMs).has(serverId), launched));
  }

  async setDraining(serverId: string, draining: boolean): Promise<Result<AdminServerView, PoolFailure>> {
    return this.changeNode(serverId, () => this.nodes.setDraining(serverId, draining));
  }

  /** An admin approved a pending node: it takes placements from now on. */
  async approveNode(serverId: string): Promise<Result<AdminServerView, PoolFailure>> {
    return this.changeNode(serverId, () => this.nodes.setApproved(serverId));
  }

  async setStaticOverrides(serverId: string, overrides: StaticData): Promise<Result<AdminServerView, PoolFailure>> {
    return this.changeNode(serverId, () => this.nodes.setStaticOverrides(serverId, overrides));
  }

  /** Forgets a node; its key stops working and its channel closes at once. Idempotent. */
  async removeNode(serverId: string): Promise<void> {
    this.nodes.deleteNode(serverId);
    this.channels.keyChanged(serverId, null);
    this.placement.deleteReservationsOf(serverId);
    this.requests.forget(serverId);
    this.capacityChanged();
  }

  /** `GET /v1/agent/channel`, forwarded by the Worker: verifies the node's token and accepts its channel. */
  override async fetch(request: Request): Promise<Response> {
    const response = await this.channels.admit(request, Date.now());
    // A node whose channel opens can take launched sessions again (and resume orphaned launches).
    if (response.status === 101) this.capacityChanged();
    return response;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.channels.receive(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.channels.closed(ws, `${code} ${reason}`);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    this.channels.closed(ws, error instanceof Error ? error.message : String(error));
  }

  /** A round trip over the node's control channel, in ms. */
  async pingServer(serverId: string): Promise<Result<{ rttMs: number }, CommandFailure>> {
    return this.channels.ping(serverId, Date.now);
  }

  /** Ends live relayed connections on one node (its gateway closes them); how many it closed. */
  async disconnectOn(serverId: string, target: DisconnectTarget, reason: string): Promise<Result<{ closed: number }, CommandFailure>> {
    return this.channels.disconnectOn(serverId, target, reason, Date.now());
  }

  /** Sends `disconnect` to every node with a live channel, in parallel; what each answered. */
  async disconnectEverywhere(target: DisconnectTarget, reason: string): Promise<DisconnectReport> {
    return this.channels.disconnectEverywhere(target, reason, Date.now());
  }

  /** Liveness: marks overdue nodes down, lets the subclass do its timed work, and schedules the next wake-up. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const expired = expiredNodes(this.nodes.listNodes(), this.meta.intervalMs, Date.now());
    this.nodes.markDown(expired);
    if (expired.length > 0) log.info(`pool ${this.meta.pool}: marked down ${expired.join(", ")}`);
    await this.woken();
    await this.ensureAlarm();
  }

  /** Something that can free or add capacity happened (a beat, an admin's change, a session ended). */
  protected capacityChanged(): void {}

  /** The subclass's timed work, run on every alarm. */
  protected async woken(): Promise<void> {}

  /** When the subclass next needs an alarm, or null. */
  protected wakeAt(): number | null {
    return null;
  }

  /** A beat the node proved it sent (signed, or on its channel): stored, confirming reservations its sessions fill. */
  protected async acceptBeat(node: NodeAuth, seq: number, body: HeartbeatBody): Promise<HeartbeatReply> {
    const nowMs = Date.now();
    this.nodes.saveBeat(node.serverId, seq, nowMs, body);
    const held = this.placement.reservationsFor(node.serverId, nowMs);
    if (held.length > 0) this.placement.deleteReservations(confirmedReservations(held, body.sessions));
    this.capacityChanged();
    await this.ensureAlarm();
    return { status: nodeStatus({ status: "up", draining: node.draining, approved: node.approved }), draining: node.draining, intervalMs: this.meta.intervalMs };
  }

  /** An admin's change to a node this object holds; the node as it is then. */
  protected changeNode(serverId: string, change: () => void): Promise<Result<AdminServerView, PoolFailure>> {
    if (!this.nodes.getNode(serverId)) return Promise.resolve(err("unknown-server"));
    change();
    this.capacityChanged();
    return this.getServer(serverId);
  }

  /** Every node as the balancer and the admin see it, with unconfirmed placements counted. */
  protected serverViews(): AdminServerView[] {
    const nowMs = Date.now();
    const reservations = this.placement.liveReservations(nowMs);
    const pending = pendingByServer(reservations);
    const launched = launchedByServer(reservations);
    const channels = this.channels.connected(nowMs);
    const { pool, originRules } = this.meta;
    return this.nodes.listNodes().map((node) => toServerView(node, pool, pending.get(node.serverId) ?? 0, originRules, channels.has(node.serverId), launched.get(node.serverId)));
  }

  /** Sets the alarm to the earliest wake-up anyone needs, unless one at least as early is set. */
  protected async ensureAlarm(): Promise<void> {
    const times = [nextAlarmAt(this.nodes.eachNode(), this.meta.intervalMs), this.wakeAt()].filter((at): at is number => at !== null);
    if (times.length === 0) return;
    const next = Math.min(...times);
    if (this.alarmAt !== null && this.alarmAt <= next) return;
    this.alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }
}
