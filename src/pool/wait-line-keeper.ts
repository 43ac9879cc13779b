/**
 * The wait line in the pool object: joins starts to it, places waiting entries when capacity may
 * have freed (a pass, serialized with every other selection so a slot is placed once), launches
 * what it placed for launcher profiles (wait-line-launches.ts), and wakes the clients waiting on an entry (long-poll and
 * SSE hold a `watch`). Rules are in wait-line.ts; entries in WaitLineStore.
 */
import type { StartRequest, StartResult } from "../channel-protocol.ts";
import type { Result } from "../core/result.ts";
import type { CommandFailure } from "./pool-failure.ts";
import type { PoolMeta } from "./pool-meta.ts";
import type { SelectDecision, SelectFailure, SelectOutcome, SelectRequest } from "./select-request.ts";
import { expiredFailure, keepsWaiting, MAX_TRIES_PER_PASS, nextLineWakeAt, type PlacedOutcome, type QueuedStart } from "./wait-line.ts";
import { ESTIMATE_MAX_SAMPLES, REMOVED_FAILURE, SETTLED_RETENTION_MS, viewOf, type WaitEntry, waitingInOrder, type WaitView } from "./wait-line.ts";
import { LineLaunches } from "./wait-line-launches.ts";
import type { WaitLineStore } from "./wait-line-store.ts";

export interface WaitLineDeps {
  store: WaitLineStore;
  /** Where recent placement times are kept (the `meta` table), so estimates survive eviction. */
  meta: Pick<PoolMeta, "linePlacedAt">;
  serialized: <T>(work: () => Promise<T>) => Promise<T>;
  selectNow: (request: SelectRequest, options: { logFailure: boolean }) => Promise<SelectOutcome>;
  launch: (serverId: string, request: StartRequest) => Promise<Result<StartResult, CommandFailure>>;
  now: () => number;
  newId: () => string;
  /** The line's next wake-up may have moved: reschedule the object's alarm. */
  rescheduled: () => void;
  /** See LineLaunchDeps.resendable. */
  resendable: (serverId: string, sessionId: string) => boolean;
}

/** A start of a queueing profile, with the profile's line settings. */
export interface QueueAsk {
  start: QueuedStart;
  user: string;
  profileId: string;
  maxLength: number;
  maxWaitMs: number;
  /** X2Go: the place is kept this long after each try (the client cannot wait inside the protocol). */
  graceMs?: number;
}

export type PlaceOrQueue =
  | { kind: "placed"; decision: SelectDecision }
  | { kind: "queued"; view: WaitView }
  | { kind: "failed"; failure: SelectFailure };

interface Watch {
  id: string;
  key: string;
  resolve: (view: WaitView | null) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** What makes a waiting client's view different: a new position, a settlement, a launch answered. */
const watchKey = (view: WaitView | null) => (view ? `${view.status}:${view.position}:${view.placed?.launch?.state ?? ""}` : "gone");
const isPending = (view: WaitView) => view.status === "waiting" || view.placed?.launch?.state === "launching";

export class WaitLineKeeper {
  readonly #deps: WaitLineDeps;
  readonly #watches = new Set<Watch>();
  readonly #launches: LineLaunches;

  constructor(deps: WaitLineDeps) {
    this.#deps = deps;
    this.#launches = new LineLaunches({ store: deps.store, launch: deps.launch, now: deps.now, changed: () => this.notify(), resendable: deps.resendable });
  }

  hasWaiting(): boolean {
    return this.#deps.store.waitingCount() > 0;
  }

  /**
   * A start that may wait: with nobody waiting it is placed directly and joins the line only when
   * the servers are full; with people waiting it joins the back and a pass runs, so it never
   * overtakes them for a slot they could use. A user's second try returns their place.
   */
  placeOrQueue(ask: QueueAsk): Promise<PlaceOrQueue> {
    return this.#deps.serialized(async () => {
      const { store, now } = this.#deps;
      const nowMs = now();
      const held = store.waitingOf(ask.user, ask.profileId);
      if (held) {
        if (ask.graceMs !== undefined) store.setExpiresAt(held.id, Math.min(held.deadlineAt, nowMs + ask.graceMs));
        return { kind: "queued", view: this.viewNow(held.id) as WaitView };
      }
      const collected = ask.graceMs === undefined ? undefined : this.collectPlaced(ask);
      if (collected) return collected;
      if (!this.hasWaiting()) {
        const outcome = await this.#deps.selectNow(ask.start.select, { logFailure: true });
        if (outcome.ok) return { kind: "placed", decision: outcome.value };
        if (!keepsWaiting(outcome.error.code)) return { kind: "failed", failure: outcome.error };
      }
      const waiting = store.all().filter((entry) => entry.status === "waiting" && entry.profileId === ask.profileId).length;
      if (waiting >= ask.maxLength) {
        return { kind: "failed", failure: { code: "NO_SERVER_AVAILABLE", message: `every server is busy and the line for profile ${ask.profileId} is full (${waiting} waiting); try again later`, trace: [] } };
      }
      const deadlineAt = nowMs + ask.maxWaitMs;
      const entry = store.add({
        id: this.#deps.newId(),
        user: ask.user,
        profileId: ask.profileId,
        createdAt: nowMs,
        deadlineAt,
        expiresAt: ask.graceMs === undefined ? deadlineAt : Math.min(deadlineAt, nowMs + ask.graceMs),
        start: ask.start,
      });
      await this.passNow(entry.id);
      const after = store.get(entry.id);
      if (after?.status === "placed" && after.placed) {
        store.delete([entry.id]);
        return { kind: "placed", decision: { ...decisionOf(after.placed), reason: "placed from the wait line", trace: [] } };
      }
      this.#deps.rescheduled();
      return { kind: "queued", view: this.viewNow(entry.id) as WaitView };
    });
  }

  /** Capacity may have freed (or a node came back): places waiting entries, in order, behind any running selection; resends orphaned launches. */
  pass(): Promise<void> {
    this.#launches.resumeOrphans();
    if (!this.hasWaiting()) return Promise.resolve();
    return this.#deps.serialized(() => this.passNow());
  }

  /** The entry as its user (`login`) or an admin (null) sees it; undefined when it is not theirs or gone. */
  viewNow(id: string, login: string | null = null): WaitView | undefined {
    const entry = this.#deps.store.get(id);
    if (!entry || (login !== null && entry.user !== login)) return undefined;
    return viewOf(entry, this.#deps.store.positions(), this.#deps.meta.linePlacedAt, this.#deps.now());
  }

  /** Waiting entries in order, for the admin. */
  list(): WaitView[] {
    const positions = this.#deps.store.positions();
    const nowMs = this.#deps.now();
    return waitingInOrder(this.#deps.store.all()).map((entry) => viewOf(entry, positions, this.#deps.meta.linePlacedAt, nowMs));
  }

  /**
   * Answers when the entry's view changes (position, placement, failure) or after `waitMs`. Settled
   * entries, or a `knownPosition` that is out of date, answer at once. A placed entry still
   * launching has no position, which its client was told as 0 (queuedAnswer).
   */
  watch(id: string, login: string, waitMs: number, knownPosition?: number): Promise<WaitView | undefined> {
    this.#launches.resumeOrphans();
    const view = this.viewNow(id, login);
    if (!view || !isPending(view) || waitMs <= 0 || (knownPosition !== undefined && (view.position ?? 0) !== knownPosition)) return Promise.resolve(view);
    return new Promise((resolve) => {
      const watch: Watch = {
        id,
        key: watchKey(view),
        resolve: (next) => resolve(next ?? undefined),
        timer: setTimeout(() => {
          this.#watches.delete(watch);
          resolve(this.viewNow(id, login));
        }, waitMs),
      };
      this.#watches.add(watch);
    });
  }

  /** The user leaves the line (or drops a settled entry); false when it is not theirs. */
  cancel(id: string, login: string): boolean {
    const entry = this.#deps.store.get(id);
    if (!entry || entry.user !== login) return false;
    this.#deps.store.delete([id]);
    this.notify();
    return true;
  }

  /** An admin takes a waiting entry out; its client is told why. */
  remove(id: string): boolean {
    const entry = this.#deps.store.get(id);
    if (!entry || entry.status !== "waiting") return false;
    this.#deps.store.failed(id, REMOVED_FAILURE, this.#deps.now());
    this.notify();
    return true;
  }

  /** Ends entries that waited too long and forgets settled ones past their retention. */
  expire(): void {
    const { store } = this.#deps;
    const nowMs = this.#deps.now();
    for (const entry of store.all()) if (entry.status === "waiting" && entry.expiresAt <= nowMs) store.failed(entry.id, expiredFailure(entry), nowMs);
    store.delete(store.all().filter((entry) => entry.status !== "waiting" && (entry.settledAt ?? 0) + SETTLED_RETENTION_MS <= nowMs).map((entry) => entry.id));
    this.notify();
  }

  nextWakeAt(): number | null {
    return nextLineWakeAt(this.#deps.store.all());
  }

  private async passNow(launchlessId?: string): Promise<void> {
    this.expire();
    const { store } = this.#deps;
    const full = new Set<string>();
    let tries = 0;
    for (const entry of waitingInOrder(store.all())) {
      if (full.has(entry.profileId) || tries++ >= MAX_TRIES_PER_PASS) continue;
      const outcome = await this.#deps.selectNow(entry.start.select, { logFailure: false });
      if (outcome.ok) this.placed(entry, outcome.value, entry.id !== launchlessId);
      else if (keepsWaiting(outcome.error.code)) full.add(entry.profileId);
      else store.failed(entry.id, { code: outcome.error.code, message: outcome.error.message }, this.#deps.now());
    }
    this.notify();
    this.#deps.rescheduled();
  }

  private placed(entry: WaitEntry, decision: SelectDecision, launch: boolean): void {
    const nowMs = this.#deps.now();
    this.#deps.meta.linePlacedAt = [...this.#deps.meta.linePlacedAt, nowMs].slice(-ESTIMATE_MAX_SAMPLES);
    const { serverId, hostname, clientAddress, reservationId, resumeSessionId } = decision;
    const placed: PlacedOutcome = { serverId, hostname, clientAddress, ...(reservationId ? { reservationId } : {}), ...(resumeSessionId ? { resumeSessionId } : {}) };
    if (!launch) return this.#deps.store.placed(entry.id, placed, nowMs);
    this.#launches.placeAndLaunch(entry, placed, nowMs);
  }

  /** An X2Go retry after its entry was placed: the placement, once. */
  private collectPlaced(ask: QueueAsk): PlaceOrQueue | undefined {
    const entry = this.#deps.store.all().find((candidate) => candidate.status === "placed" && candidate.user === ask.user && candidate.profileId === ask.profileId);
    if (!entry?.placed) return undefined;
    this.#deps.store.delete([entry.id]);
    return { kind: "placed", decision: { ...decisionOf(entry.placed), reason: "placed from the wait line", trace: [] } };
  }

  /**
   * Answers the watches whose view changed. Settled entries (placed, failed, gone) answer at once;
   * those who only moved up are told a turn later, so a freed slot's answer does not queue behind
   * every waiter's new position (with 1,000 waiting, that is ~1,000 answers and re-polls).
   */
  private notify(): void {
    const moved: Array<{ watch: Watch; view: WaitView }> = [];
    for (const watch of this.#watches) {
      const view = this.viewNow(watch.id) ?? null;
      if (watchKey(view) === watch.key) continue;
      clearTimeout(watch.timer);
      this.#watches.delete(watch);
      if (view?.status === "waiting") moved.push({ watch, view });
      else watch.resolve(view);
    }
    if (moved.length > 0) setTimeout(() => moved.forEach(({ watch, view }) => watch.resolve(view)), 0);
  }
}

function decisionOf(placed: PlacedOutcome): Omit<SelectDecision, "reason" | "trace"> {
  const { serverId, hostname, clientAddress, reservationId, resumeSessionId } = placed;
  return { serverId, hostname, clientAddress, ...(reservationId ? { reservationId } : {}), ...(resumeSessionId ? { resumeSessionId } : {}) };
}
