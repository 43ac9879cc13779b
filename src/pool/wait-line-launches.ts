/**
 * Launches for entries the wait line placed under a launcher profile: the `start` goes to the
 * node and the entry records the answer (running, starting with the launcher's message, or the
 * failure). The answer is awaited in memory, so an object evicted while a launch is in flight
 * leaves its entry `launching`; `resumeOrphans` sends that start again with the same session id
 * (an agent answers a start it already ran with the session as it is, and runs one it never
 * got) once the node's channel is back, so the waiting client still gets its desktop, or a
 * clear failure when the reservation lapsed meanwhile.
 */
import type { StartRequest, StartResult } from "../channel-protocol.ts";
import type { Result } from "../core/result.ts";
import { commandFailureError, type CommandFailure } from "./pool-failure.ts";
import type { PlacedOutcome, WaitEntry } from "./wait-line.ts";
import type { WaitLineStore } from "./wait-line-store.ts";

export interface LineLaunchDeps {
  store: WaitLineStore;
  launch: (serverId: string, request: StartRequest) => Promise<Result<StartResult, CommandFailure>>;
  now: () => number;
  /** An entry's view changed: wake the clients waiting on it. */
  changed: () => void;
  /**
   * Whether an orphaned start should be sent now: its node's channel is open, or its reservation
   * lapsed (the send then fails at once with a clear error). Otherwise it waits for the channel.
   */
  resendable: (serverId: string, sessionId: string) => boolean;
}

const isLaunching = (entry: WaitEntry) => entry.status === "placed" && entry.placed?.launch?.state === "launching";

export class LineLaunches {
  readonly #deps: LineLaunchDeps;
  /** Entries whose launch this instance awaits. */
  readonly #inFlight = new Set<string>();
  /** Launching entries found at this instance's start and not sent again yet; null until looked for. */
  #orphans: Set<string> | null = null;

  constructor(deps: LineLaunchDeps) {
    this.#deps = deps;
  }

  /**
   * Records `placed` for the entry and, when the entry's profile launches sessions and the
   * placement reserved one, starts it on the node (the entry is `launching` until it answers).
   */
  placeAndLaunch(entry: WaitEntry, placed: PlacedOutcome, nowMs: number): void {
    const template = entry.start.launch;
    if (!template || !placed.reservationId) return this.#deps.store.placed(entry.id, placed, nowMs);
    this.#deps.store.placed(entry.id, { ...placed, launch: { state: "launching" } }, nowMs);
    this.#send(entry.id, placed, { ...template, sessionId: placed.reservationId });
  }

  /**
   * Sends again the starts of `launching` entries that no launch of this instance awaits: those
   * this instance found at its start (left by a reset). They are looked for once; each is sent
   * when `resendable` allows, so the calls on every long-poll cost nothing once none is left.
   */
  resumeOrphans(): void {
    this.#orphans ??= new Set(this.#deps.store.all().filter((entry) => isLaunching(entry) && !this.#inFlight.has(entry.id)).map((entry) => entry.id));
    for (const id of this.#orphans) {
      const entry = this.#deps.store.get(id);
      const placed = entry?.placed;
      const template = entry?.start.launch;
      if (!entry || !isLaunching(entry) || !placed?.reservationId || !template) {
        this.#orphans.delete(id);
        continue;
      }
      if (!this.#deps.resendable(placed.serverId, placed.reservationId)) continue;
      this.#orphans.delete(id);
      const { launch: _launching, ...outcome } = placed;
      this.#send(id, outcome, { ...template, sessionId: placed.reservationId });
    }
  }

  #send(id: string, placed: PlacedOutcome, request: StartRequest): void {
    const { store, now } = this.#deps;
    this.#inFlight.add(id);
    this.#deps
      .launch(placed.serverId, request)
      .then(
        (answer) => {
          if (!store.get(id)) return;
          if (answer.ok) {
            const { state, message } = answer.value;
            store.placed(id, { ...placed, launch: { state: state === "running" ? "running" : "starting", ...(message ? { message } : {}) } }, now());
          } else {
            const error = commandFailureError(answer.error, placed.serverId);
            store.failed(id, { code: error.code, message: error.message }, now());
          }
        },
        (error: unknown) => {
          if (!store.get(id)) return;
          const reason = error instanceof Error ? error.message : String(error);
          store.failed(id, { code: "LAUNCH_FAILED", message: `the session could not be started on ${placed.serverId}: ${reason.slice(0, 200)}` }, now());
        },
      )
      .finally(() => {
        this.#inFlight.delete(id);
        this.#deps.changed();
      });
  }
}
