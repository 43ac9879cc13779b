/**
 * One Durable Object per pool: the authority for which nodes are up right now. It stores the
 * live state of its nodes in SQLite (surviving eviction), verifies heartbeats with each node's
 * enrolled key, and runs the liveness alarm. Decisions live in pure modules (liveness,
 * server-view, balancer); this class only stores and coordinates.
 */
import { DurableObject } from "cloudflare:workers";
import { importNodeKey, verifyNodeToken } from "../tokens/heartbeat-token.ts";
import { findNodeInPool, findPool } from "../db/queries.ts";
import type { Env } from "../env.ts";
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  type Ed25519PublicJwk,
  type HeartbeatBody,
  type HeartbeatReply,
  type StaticData,
} from "../protocol.ts";
import type { ScriptRunner } from "../balancer/chain.ts";
import { type Policy, type PolicyInput, policySchema } from "../balancer/policy.ts";
import { DEFAULT_POLICY } from "../balancer/registry.ts";
import { createScriptRunner } from "../sandbox/script-runner.ts";
import { randomId } from "../core/crypto.ts";
import { expiredNodes, nextAlarmAt } from "./liveness.ts";
import { confirmedReservations, pendingByServer } from "./placement.ts";
import { NonceStore } from "./nonce-store.ts";
import { type Decision, PlacementStore } from "./placement-store.ts";
import type { PoolSession, SelectOutcome, SelectRequest } from "./select-request.ts";
import { decidePlacement } from "./placement-decision.ts";
import { nodeRecordFromRow } from "./node-record.ts";
import { fail, ok, type RpcResult } from "./rpc-result.ts";
import { type AdminServerView, nodeStatus, toServerView } from "./server-view.ts";
import { type NodeAuth, type NodeRecord, PoolStore } from "./node-store.ts";

export interface HeartbeatInput {
  pool: string;
  serverId: string;
  token: string;
  /** base64url SHA-256 of the raw body, computed by the Worker. */
  bodyHash: string;
  body: HeartbeatBody;
}

export interface RelayTarget {
  originUrl: string;
  hostname: string;
  status: "up" | "down" | "draining";
}

function staleBeat<T>(): RpcResult<T> {
  return fail("HEARTBEAT_STALE", "heartbeat sequence number is not above the last accepted one");
}

export class PoolObject extends DurableObject<Env> {
  private readonly store: PoolStore;
  private readonly placement: PlacementStore;
  private readonly nonces: NonceStore;
  private readonly runScript: ScriptRunner;
  /** Selections run one at a time (script steps await), so each sees the last one's reservation. */
  private selecting: Promise<unknown> = Promise.resolve();
  private policyCache: { json: string; policy: Policy } | null = null;
  private readonly keys = new Map<string, { jwk: string; key: CryptoKey }>();
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new PoolStore(ctx.storage.sql);
    this.placement = new PlacementStore(ctx.storage.sql);
    this.nonces = new NonceStore(ctx.storage.sql);
    this.runScript = createScriptRunner(env.LOADER);
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
    const held = this.placement.reservationsFor(node.serverId, nowMs);
    if (held.length > 0) this.placement.deleteReservations(confirmedReservations(held, input.body.sessions));
    await this.ensureAlarm();
    return ok({ status: nodeStatus({ status: "up", draining: current.draining }), draining: current.draining, intervalMs: this.intervalMs() });
  }

  async listServers(): Promise<AdminServerView[]> {
    return this.serverViews();
  }

  async getServer(serverId: string): Promise<RpcResult<AdminServerView>> {
    const node = this.store.getNode(serverId);
    if (!node) return fail("NOT_FOUND", `no server ${serverId} in this pool`);
    return ok(toServerView(node, this.poolName(), this.placement.reservationsFor(serverId, Date.now()).length));
  }

  /** Every node as the balancer and the admin see it, with unconfirmed placements counted. */
  private serverViews(): AdminServerView[] {
    const pending = pendingByServer(this.placement.liveReservations(Date.now()));
    const pool = this.poolName();
    return this.store.listNodes().map((node) => toServerView(node, pool, pending.get(node.serverId) ?? 0));
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
    this.placement.deleteReservationsOf(serverId);
    this.keys.delete(serverId);
  }

  async setIntervalMs(intervalMs: number): Promise<void> {
    this.store.setMeta("interval_ms", String(intervalMs));
  }

  /**
   * Runs the pool's balancing chain (or `request.policy`) over the live servers. A real
   * `session/start` that is not a resume reserves the chosen server; every real decision is
   * logged with its trace. Selections are serialized.
   */
  async select(request: SelectRequest): Promise<SelectOutcome> {
    const run = this.selecting.then(() => this.selectNow(request));
    this.selecting = run.catch(() => undefined);
    return run;
  }

  async getPolicy(): Promise<PolicyInput | null> {
    const stored = this.store.getMeta("policy");
    return stored === null || stored === "null" ? null : (JSON.parse(stored) as PolicyInput);
  }

  /** Stores the policy as the admin wrote it (already validated by the caller); null = default. */
  async setPolicy(policy: PolicyInput | null): Promise<void> {
    this.store.setMeta("policy", JSON.stringify(policy));
  }

  /** Sessions of one user (or of everyone when `login` is null) on this pool's servers. */
  async listSessions(login: string | null): Promise<PoolSession[]> {
    const found: PoolSession[] = [];
    for (const server of this.serverViews()) {
      for (const session of server.sessions) {
        if (login !== null && session.user !== login) continue;
        found.push({
          id: session.id,
          user: session.user,
          state: session.state,
          startedAt: session.startedAt,
          ...(session.display ? { display: session.display } : {}),
          serverId: server.serverId,
          hostname: server.hostname,
          pool: server.pool,
          serverStatus: server.status,
        });
      }
    }
    return found;
  }

  /**
   * Admits one relay: spends the ticket's nonce (false on any reuse) and, in the same call,
   * says where the server is (null if it is not in this pool). One round trip per upgrade.
   */
  async admitRelay(nonce: string, expiresAt: number, serverId: string): Promise<{ spent: boolean; target: RelayTarget | null }> {
    if (!this.nonces.spend(nonce, expiresAt, Date.now())) return { spent: false, target: null };
    return { spent: true, target: this.relayTarget(serverId) };
  }

  /** The relay could not reach this node: count it down until its next good heartbeat. */
  async markSuspect(serverId: string): Promise<void> {
    this.store.markDown([serverId]);
  }

  /** Where a server is, for the relay's fallback after a re-selection. */
  async reachServer(serverId: string): Promise<RpcResult<RelayTarget>> {
    const target = this.relayTarget(serverId);
    return target ? ok(target) : fail("NOT_FOUND", `no server ${serverId} in this pool`);
  }

  private relayTarget(serverId: string): RelayTarget | null {
    const node = this.store.getNode(serverId);
    return node ? { originUrl: node.originUrl, hostname: node.hostname, status: nodeStatus(node) } : null;
  }

  async recentDecisions(limit: number): Promise<Decision[]> {
    return this.placement.recentDecisions(limit);
  }

  private async selectNow(request: SelectRequest): Promise<SelectOutcome> {
    const policy = request.policy === undefined ? await this.poolPolicy() : policySchema.safeParse(request.policy);
    if (!policy.success) return { ok: false, code: "BAD_REQUEST", message: "the policy is invalid", trace: [] };
    const { outcome, effects } = await decidePlacement(policy.data, request, {
      servers: this.serverViews(),
      roundRobinCounter: Number(this.store.getMeta("round_robin_counter") ?? "0"),
      nowMs: Date.now(),
      random: Math.random,
      newReservationId: () => randomId("rsv"),
      runScript: this.runScript,
    });
    if (effects.nextRoundRobinCounter !== undefined) this.store.setMeta("round_robin_counter", String(effects.nextRoundRobinCounter));
    if (effects.decision) this.placement.logDecision(effects.decision);
    if (effects.reservation) this.placement.addReservation(effects.reservation);
    return outcome;
  }

  /** The pool's policy, parsed once per change; the default chain when none is set. */
  private async poolPolicy(): Promise<{ success: true; data: Policy } | { success: false }> {
    if (this.store.getMeta("policy") === null) {
      // Never set here (or storage was reset): the catalogue has the admin's policy.
      const row = await findPool(this.env.DB, this.poolName());
      this.store.setMeta("policy", row?.policy ?? "null");
    }
    const json = this.store.getMeta("policy") ?? "null";
    if (this.policyCache?.json === json) return { success: true, data: this.policyCache.policy };
    const stored = JSON.parse(json) as PolicyInput | null;
    const parsed = stored === null ? { success: true as const, data: DEFAULT_POLICY } : policySchema.safeParse(stored);
    if (parsed.success) this.policyCache = { json, policy: parsed.data };
    return parsed.success ? { success: true, data: parsed.data } : { success: false };
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
