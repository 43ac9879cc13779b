/**
 * One Durable Object per pool: the authority for which nodes are up right now. It keeps its
 * nodes' live state in SQLite (surviving eviction), verifies heartbeats with each node's enrolled
 * key, places sessions and runs the liveness alarm. Decisions live in pure modules (liveness,
 * server-view, placement-decision, the balancer); this class validates, calls one of them and
 * stores what it says. It never reads D1 on the heartbeat path (recovery is the Worker's).
 */
import { DurableObject } from "cloudflare:workers";
import type { PolicyInput } from "../balancer/policy.ts";
import { randomId } from "../core/crypto.ts";
import { err, ok, type Result } from "../core/result.ts";
import { findPool } from "../db/queries.ts";
import type { Env } from "../env.ts";
import type { HeartbeatBody, HeartbeatReply, StaticData } from "../protocol.ts";
import { createScriptRunner, type ScriptRunner } from "../sandbox/script-runner.ts";
import { verifyHeartbeatToken } from "../tokens/heartbeat-token.ts";
import { expiredNodes, nextAlarmAt } from "./liveness.ts";
import { NodeKeys } from "./node-keys.ts";
import { type NodeRecord, NodeStore } from "./node-store.ts";
import { NonceStore } from "./nonce-store.ts";
import { confirmedReservations, pendingByServer } from "./placement.ts";
import { decidePlacement } from "./placement-decision.ts";
import { type Decision, PlacementStore } from "./placement-store.ts";
import { parsePolicy, PolicyLoader } from "./policy-loader.ts";
import type { PoolFailure } from "./pool-failure.ts";
import { PoolMeta } from "./pool-meta.ts";
import { type RelayTarget, sessionsOn } from "./projections.ts";
import type { PoolSession, SelectOutcome, SelectRequest } from "./select-request.ts";
import { type AdminServerView, nodeStatus, toServerView } from "./server-view.ts";
import { migratePoolSchema } from "./sql-schema.ts";
import { configureLog, log } from "../core/log.ts";

export interface HeartbeatInput {
  pool: string;
  serverId: string;
  token: string;
  /** base64url SHA-256 of the raw body, computed by the Worker. */
  bodyHash: string;
  body: HeartbeatBody;
}

export class PoolObject extends DurableObject<Env> {
  private readonly meta: PoolMeta;
  private readonly nodes: NodeStore;
  private readonly placement: PlacementStore;
  private readonly nonces: NonceStore;
  private readonly policy: PolicyLoader;
  private readonly keys = new NodeKeys();
  private readonly runScript: ScriptRunner;
  /** Live selections run one at a time (script steps await), so each sees the last one's reservation. */
  private selecting: Promise<unknown> = Promise.resolve();
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureLog(env.LOG_LEVEL);
    migratePoolSchema(ctx.storage.sql);
    this.meta = new PoolMeta(ctx.storage.sql);
    this.nodes = new NodeStore(ctx.storage.sql);
    this.placement = new PlacementStore(ctx.storage.sql);
    this.nonces = new NonceStore(ctx.storage.sql);
    this.policy = new PolicyLoader(this.meta, async () => (await findPool(env.DB, this.meta.pool))?.policy ?? null);
    this.runScript = createScriptRunner(env.LOADER);
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Sets the pool's name and heartbeat interval (idempotent). */
  async configure(pool: string, intervalMs: number): Promise<void> {
    this.meta.pool = pool;
    this.meta.intervalMs = intervalMs;
  }

  /** Adds or re-keys a node after enrolment (or recovery); a new key resets its heartbeat sequence. */
  async registerNode(pool: string, intervalMs: number, record: NodeRecord): Promise<void> {
    await this.configure(pool, intervalMs);
    this.nodes.upsertNode(record);
    this.keys.forget(record.serverId);
  }

  /**
   * Verifies and records one heartbeat. Refused beats (bad token, replayed or reordered seq)
   * change nothing; a node this object does not hold is "unknown-node" (the Worker may recover
   * it from the catalogue and retry). Never touches D1.
   */
  async recordHeartbeat(input: HeartbeatInput): Promise<Result<HeartbeatReply, PoolFailure>> {
    const stored = this.nodes.getNodeAuth(input.serverId);
    if (!stored) return err("unknown-node");
    const nowMs = Date.now();
    const verdict = await verifyHeartbeatToken({
      token: input.token,
      key: await this.keys.keyOf(stored),
      serverId: stored.serverId,
      pool: input.pool,
      bodyHash: input.bodyHash,
      lastSeq: stored.lastSeq,
      nowSeconds: Math.floor(nowMs / 1000),
    });
    if (!verdict.ok) {
      log.warn(`heartbeat refused for ${input.serverId}: ${verdict.error.reason}: ${verdict.error.detail}`);
      return err(verdict.error.reason === "stale-sequence" ? "stale-heartbeat" : "bad-heartbeat");
    }
    // Verification awaited, so another beat, a re-key or a removal may have run meanwhile:
    // re-read and re-check synchronously right before the write.
    const current = this.nodes.getNodeAuth(stored.serverId);
    if (!current || current.publicKeyJwk !== stored.publicKeyJwk) return err("bad-heartbeat");
    if (verdict.value.seq <= current.lastSeq) return err("stale-heartbeat");
    this.nodes.saveBeat(stored.serverId, verdict.value.seq, nowMs, input.body);
    const held = this.placement.reservationsFor(stored.serverId, nowMs);
    if (held.length > 0) this.placement.deleteReservations(confirmedReservations(held, input.body.sessions));
    await this.ensureAlarm();
    return ok({ status: nodeStatus({ status: "up", draining: current.draining }), draining: current.draining, intervalMs: this.meta.intervalMs });
  }

  async listServers(): Promise<AdminServerView[]> {
    return this.serverViews();
  }

  async getServer(serverId: string): Promise<Result<AdminServerView, PoolFailure>> {
    const node = this.nodes.getNode(serverId);
    if (!node) return err("unknown-server");
    return ok(toServerView(node, this.meta.pool, this.placement.reservationsFor(serverId, Date.now()).length));
  }

  async setDraining(serverId: string, draining: boolean): Promise<Result<AdminServerView, PoolFailure>> {
    if (!this.nodes.getNode(serverId)) return err("unknown-server");
    this.nodes.setDraining(serverId, draining);
    return this.getServer(serverId);
  }

  async setStaticOverrides(serverId: string, overrides: StaticData): Promise<Result<AdminServerView, PoolFailure>> {
    if (!this.nodes.getNode(serverId)) return err("unknown-server");
    this.nodes.setStaticOverrides(serverId, overrides);
    return this.getServer(serverId);
  }

  /** Forgets a node; its key stops working at once. Idempotent. */
  async removeNode(serverId: string): Promise<void> {
    this.nodes.deleteNode(serverId);
    this.placement.deleteReservationsOf(serverId);
    this.keys.forget(serverId);
  }

  async setIntervalMs(intervalMs: number): Promise<void> {
    this.meta.intervalMs = intervalMs;
  }

  /**
   * Runs the pool's balancing chain (or `request.policy`) over the live servers. A real
   * `session/start` that is not a resume reserves the chosen server; every real decision is
   * logged with its trace. Live selections are serialized. Dry runs change nothing, so they run
   * beside the queue: an admin's slow script never holds up a user's placement.
   */
  async select(request: SelectRequest): Promise<SelectOutcome> {
    if (request.dryRun) return this.selectNow(request);
    const run = this.selecting.then(() => this.selectNow(request));
    this.selecting = run.catch(() => undefined);
    return run;
  }

  async getPolicy(): Promise<PolicyInput | null> {
    return this.policy.stored();
  }

  /** Stores the policy as the admin wrote it (already validated by the caller); null = default. */
  async setPolicy(policy: PolicyInput | null): Promise<void> {
    this.policy.store(policy);
  }

  /** Sessions of one user (or of everyone when `login` is null) on this pool's servers. */
  async listSessions(login: string | null): Promise<PoolSession[]> {
    return sessionsOn(this.serverViews(), login);
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
    this.nodes.markDown([serverId]);
  }

  /** Where a server is, for the relay's fallback after a re-selection. */
  async reachServer(serverId: string): Promise<Result<RelayTarget, PoolFailure>> {
    const target = this.relayTarget(serverId);
    return target ? ok(target) : err("unknown-server");
  }

  async recentDecisions(limit: number): Promise<Decision[]> {
    return this.placement.recentDecisions(limit);
  }

  /** Liveness: marks overdue nodes down and schedules the next check. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const expired = expiredNodes(this.nodes.listNodes(), this.meta.intervalMs, Date.now());
    this.nodes.markDown(expired);
    if (expired.length > 0) log.info(`pool ${this.meta.pool}: marked down ${expired.join(", ")}`);
    await this.ensureAlarm();
  }

  private async selectNow(request: SelectRequest): Promise<SelectOutcome> {
    const policy = request.policy === undefined ? await this.policy.current() : parsePolicy(request.policy);
    if (!policy.ok) return err({ code: "BAD_REQUEST", message: "the policy is invalid", trace: [] });
    const { outcome, effects } = await decidePlacement(policy.value, request, {
      servers: this.serverViews(),
      roundRobinCounter: this.meta.roundRobinCounter,
      nowMs: Date.now(),
      clock: () => performance.now(),
      random: Math.random,
      newReservationId: () => randomId("rsv"),
      runScript: this.runScript,
    });
    if (effects.nextRoundRobinCounter !== undefined) this.meta.roundRobinCounter = effects.nextRoundRobinCounter;
    if (effects.decision) this.placement.logDecision(effects.decision);
    if (effects.reservation) this.placement.addReservation(effects.reservation);
    return outcome;
  }

  /** Every node as the balancer and the admin see it, with unconfirmed placements counted. */
  private serverViews(): AdminServerView[] {
    const pending = pendingByServer(this.placement.liveReservations(Date.now()));
    const pool = this.meta.pool;
    return this.nodes.listNodes().map((node) => toServerView(node, pool, pending.get(node.serverId) ?? 0));
  }

  private relayTarget(serverId: string): RelayTarget | null {
    const node = this.nodes.getNode(serverId);
    return node ? { originUrl: node.originUrl, hostname: node.hostname, status: nodeStatus(node) } : null;
  }

  private async ensureAlarm(): Promise<void> {
    if (this.alarmAt !== null) return;
    const next = nextAlarmAt(this.nodes.listNodes(), this.meta.intervalMs);
    if (next === null) return;
    this.alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }
}
