/**
 * One Durable Object per pool: the authority for which nodes are up right now and where each
 * session goes. The node side (stores, heartbeats, liveness, control channels) is
 * PoolNodesObject (pool-nodes-object.ts); this class adds placement (selector.ts), launched
 * sessions (launches.ts), the session lists and the relay's admission. It validates, calls one
 * domain function and shapes the answer.
 */
import type { PolicyInput } from "../balancer/policy.ts";
import type { StartRequest, StartResult } from "../channel-protocol.ts";
import { err, ok, type Result } from "../core/result.ts";
import { findPool } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { randomId } from "../core/crypto.ts";
import { createScriptRunner } from "../sandbox/script-runner.ts";
import { type LaunchDeps, launchReserved, terminateLaunched } from "./launches.ts";
import type { Decision } from "./placement-store.ts";
import { PolicyLoader } from "./policy-loader.ts";
import type { CommandFailure, PoolFailure } from "./pool-failure.ts";
import { PoolNodesObject } from "./pool-nodes-object.ts";
import { type RelayTarget, relayTargetOf, sessionsOn } from "./projections.ts";
import type { PoolSession, SelectOutcome, SelectRequest } from "./select-request.ts";
import { Selector } from "./selector.ts";
import type { WaitView } from "./wait-line.ts";
import { type PlaceOrQueue, type QueueAsk, WaitLineKeeper } from "./wait-line-keeper.ts";
import { WaitLineStore } from "./wait-line-store.ts";

export type { HeartbeatInput, NodeRequestInput, PoolSettings } from "./pool-nodes-object.ts";

/** A long-poll or SSE wait on one entry is held at most this long per call. */
export const MAX_WATCH_MS = 60_000;

export class PoolObject extends PoolNodesObject {
  private readonly policy: PolicyLoader;
  private readonly selector: Selector;
  private readonly line: WaitLineKeeper;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.policy = new PolicyLoader(this.meta, async () => (await findPool(env.DB, this.meta.pool))?.policy ?? null);
    this.selector = new Selector({ meta: this.meta, policy: this.policy, placement: this.placement, runScript: createScriptRunner(env.LOADER), serverViews: () => this.serverViews() });
    this.line = new WaitLineKeeper({
      store: new WaitLineStore(ctx.storage.sql),
      meta: this.meta,
      serialized: (work) => this.selector.serialized(work),
      selectNow: (request, options) => this.selector.selectNow(request, options),
      launch: (serverId, request) => launchReserved(this.launchDeps(), serverId, request, Date.now()),
      now: Date.now,
      newId: () => randomId("wq"),
      rescheduled: () => void this.ensureAlarm(),
      resendable: (serverId, sessionId) => {
        const nowMs = Date.now();
        return this.channels.connected(nowMs).has(serverId) || !this.placement.liveReservations(nowMs).some((held) => held.id === sessionId);
      },
    });
  }

  /** A start of a queueing profile: placed now, or a place in the pool's wait line (wait-line-keeper.ts). */
  async placeOrQueue(ask: QueueAsk): Promise<PlaceOrQueue> {
    return this.line.placeOrQueue(ask);
  }

  /** A wait-line entry of `login` (null: an admin), after it changes or `waitMs` passes; undefined when not theirs. */
  async watchQueued(id: string, login: string, waitMs: number, knownPosition?: number): Promise<WaitView | undefined> {
    return this.line.watch(id, login, Math.min(waitMs, MAX_WATCH_MS), knownPosition);
  }

  async queuedEntry(id: string, login: string | null): Promise<WaitView | undefined> {
    return this.line.viewNow(id, login);
  }

  async cancelQueued(id: string, login: string): Promise<boolean> {
    return this.line.cancel(id, login);
  }

  /** The line in order, for the admin. */
  async listQueue(): Promise<WaitView[]> {
    return this.line.list();
  }

  async removeQueued(id: string): Promise<boolean> {
    return this.line.remove(id);
  }

  protected override capacityChanged(): void {
    void this.line.pass();
  }

  protected override async woken(): Promise<void> {
    this.line.expire();
    await this.line.pass();
  }

  /** The line's next expiry or purge; while people wait, also the next reservation to lapse (it frees a slot). */
  protected override wakeAt(): number | null {
    const times = [this.line.nextWakeAt(), this.line.hasWaiting() ? this.placement.earliestExpiry(Date.now()) : null].filter((at): at is number => at !== null);
    return times.length === 0 ? null : Math.min(...times);
  }

  /**
   * Runs the pool's balancing chain (or `request.policy`) over the live, approved servers. A
   * real `session/start` that is not a resume reserves the chosen server; every real decision is
   * logged with its trace. Live selections are serialized. Dry runs change nothing, so they run
   * beside the queue: an admin's slow script never holds up a user's placement.
   */
  async select(request: SelectRequest): Promise<SelectOutcome> {
    return this.selector.select(request);
  }

  async getPolicy(): Promise<PolicyInput | null> {
    return this.policy.stored();
  }

  /** Stores the policy as the admin wrote it (already validated by the caller); null = default. */
  async setPolicy(policy: PolicyInput | null): Promise<void> {
    this.policy.store(policy);
  }

  /** Sessions of one user (or of everyone when `login` is null) on this pool's approved servers. */
  async listSessions(login: string | null): Promise<PoolSession[]> {
    return sessionsOn(this.serverViews(), login);
  }

  /** Starts the session a placement reserved on its node (`request.sessionId` is the reservation's id). */
  async launchSession(serverId: string, request: StartRequest): Promise<Result<StartResult, CommandFailure>> {
    return launchReserved(this.launchDeps(), serverId, request, Date.now());
  }

  /** Ends a launched session on its node; it leaves the lists at once. */
  async terminateSession(serverId: string, sessionId: string, reason: string): Promise<Result<void, CommandFailure>> {
    const ended = await terminateLaunched(this.launchDeps(), serverId, sessionId, reason, Date.now());
    if (ended.ok) this.capacityChanged();
    return ended;
  }

  /**
   * Admits one relay: spends the ticket's nonce (false on any reuse) and, in the same call,
   * says where the server is (null if it is not in this pool). One round trip per upgrade.
   */
  async admitRelay(nonce: string, expiresAt: number, serverId: string): Promise<{ spent: boolean; target: RelayTarget | null }> {
    if (!this.nonces.spend(nonce, expiresAt, Date.now())) return { spent: false, target: null };
    return { spent: true, target: this.relayTarget(serverId) };
  }

  /**
   * The relay could not reach this node for the new session `reservationId`: count the node down
   * until its next good heartbeat, and drop that reservation (the session never started, so it
   * must not count against the node's load or the user's limit).
   */
  async markSuspect(serverId: string, reservationId: string): Promise<void> {
    this.nodes.markDown([serverId]);
    this.placement.deleteReservations([reservationId]);
    this.capacityChanged();
  }

  /** Where a server is, for the relay's fallback after a re-selection. */
  async reachServer(serverId: string): Promise<Result<RelayTarget, PoolFailure>> {
    const target = this.relayTarget(serverId);
    return target ? ok(target) : err("unknown-server");
  }

  async recentDecisions(limit: number): Promise<Decision[]> {
    return this.placement.recentDecisions(limit);
  }

  private launchDeps(): LaunchDeps {
    return { nodes: this.nodes, placement: this.placement, channels: this.channels };
  }

  private relayTarget(serverId: string): RelayTarget | null {
    const node = this.nodes.getNode(serverId);
    return node ? relayTargetOf(node, this.meta.originRules) : null;
  }
}
