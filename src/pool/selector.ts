/**
 * Placement in the pool object: runs the pool's balancing chain (or the request's own policy) over
 * the servers as they are now, through the pure `decidePlacement`, and stores what it decided
 * (the round-robin counter, the decision log, a reservation). Selections run one at a time
 * (script steps await), so each sees the last one's reservation.
 */
import { randomId } from "../core/crypto.ts";
import { err } from "../core/result.ts";
import type { ScriptRunner } from "../sandbox/script-runner.ts";
import { decidePlacement } from "./placement-decision.ts";
import type { PlacementStore } from "./placement-store.ts";
import { parsePolicy, type PolicyLoader } from "./policy-loader.ts";
import type { PoolMeta } from "./pool-meta.ts";
import type { SelectOutcome, SelectRequest } from "./select-request.ts";
import type { AdminServerView } from "./server-view.ts";

export interface SelectorDeps {
  meta: PoolMeta;
  policy: PolicyLoader;
  placement: PlacementStore;
  runScript: ScriptRunner;
  /** The servers as the balancer sees them now. */
  serverViews: () => AdminServerView[];
}

export class Selector {
  readonly #deps: SelectorDeps;
  #selecting: Promise<unknown> = Promise.resolve();

  constructor(deps: SelectorDeps) {
    this.#deps = deps;
  }

  /**
   * Queues one live selection behind the running ones. Dry runs change nothing, so they run beside
   * the queue: an admin's slow script never holds up a user's placement.
   */
  select(request: SelectRequest): Promise<SelectOutcome> {
    if (request.dryRun) return this.selectNow(request);
    return this.serialized(() => this.selectNow(request));
  }

  /** Runs `work` behind the running selections, and the next ones behind it (the wait line's passes). */
  serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#selecting.then(work);
    this.#selecting = run.catch(() => undefined);
    return run;
  }

  /**
   * One selection at once, not queued: only for callers that are already serialized (and the
   * select bench). `logFailure: false` keeps a wait line's retries out of the decision log.
   */
  async selectNow(request: SelectRequest, options: { logFailure?: boolean } = {}): Promise<SelectOutcome> {
    const { meta, placement } = this.#deps;
    const policy = request.policy === undefined ? await this.#deps.policy.current() : parsePolicy(request.policy);
    if (!policy.ok) return err({ code: "BAD_REQUEST", message: "the policy is invalid", trace: [] });
    const nowMs = Date.now();
    const { outcome, effects } = await decidePlacement(policy.value, request, {
      servers: this.#deps.serverViews(),
      reservations: placement.liveReservations(nowMs),
      roundRobinCounter: meta.roundRobinCounter,
      nowMs,
      clock: () => performance.now(),
      random: Math.random,
      newReservationId: () => randomId("rsv"),
      runScript: this.#deps.runScript,
      maxStartingPerNode: meta.maxStartingPerNode,
    });
    if (effects.nextRoundRobinCounter !== undefined) meta.roundRobinCounter = effects.nextRoundRobinCounter;
    if (effects.decision && (outcome.ok || options.logFailure !== false)) placement.logDecision(effects.decision);
    if (effects.reservation) placement.addReservation(effects.reservation);
    return outcome;
  }
}
