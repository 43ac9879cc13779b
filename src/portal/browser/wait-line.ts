/**
 * The desktop page's place in a wait line: followed by a long-poll per move
 * (`GET /portal/api/queue/:id`), and left with `POST /portal/api/queue/:id/leave`. Only the latest
 * follow counts: stopping or leaving drops the answer of a long-poll still in flight, so a place
 * that is gone because I left it is never shown as "gone".
 */
import { type CallResult, type ConnectAnswer, leaveLine, queuePlace } from "./portal-api.ts";

export type Place = NonNullable<ConnectAnswer["queued"]>;
export type CallFailure = Extract<CallResult<unknown>, { ok: false }>;

/** What the page shows as the place moves and ends. */
export interface LineView {
  /** Still in line: the place's message, or a note about it. */
  waiting(text: string): void;
  /** The place became a start's answer (a relay ticket, or `starting`). */
  placed(answer: ConnectAnswer): void;
  /** The line has no such place (any more): left from another page, or forgotten. */
  gone(): void;
  /** I left the line from this page. */
  left(): void;
  /** Anything else: expired or removed (410), signed out (401), the placement's own error. */
  failed(result: CallFailure): void;
}

export class LineFollower {
  readonly #view: LineView;
  /** Bumped by every follow, stop and leave: an answer to an older long-poll is dropped. */
  #wait = 0;
  #place: Place | null = null;
  #following = false;

  constructor(view: LineView) {
    this.#view = view;
  }

  /** Whether a place is being followed right now (the page offers "Leave the line" only then). */
  get following(): boolean {
    return this.#following;
  }

  async follow(place: Place, text = place.message): Promise<void> {
    const wait = ++this.#wait;
    this.#place = place;
    this.#following = true;
    this.#view.waiting(text);
    const result = await queuePlace(place.id, place.position);
    if (wait !== this.#wait) return;
    this.#following = false;
    if (result.ok) this.#view.placed(result.value);
    else if (result.status === 404) this.#view.gone();
    else this.#view.failed(result);
  }

  /** Stops following; the place is kept (following it again, or a start, finds it). False when none was followed. */
  stop(): boolean {
    if (!this.#following) return false;
    this.#wait++;
    this.#following = false;
    return true;
  }

  /** Gives the place up. A place already gone counts as left; on any other failure it is followed again. */
  async leave(): Promise<void> {
    const place = this.#place;
    if (!place || !this.stop()) return;
    this.#view.waiting("Leaving the line…");
    const result = await leaveLine(place.id);
    if (result.ok || result.status === 404) this.#view.left();
    else if (result.status === 401) this.#view.failed(result);
    else void this.follow(place, `Could not leave the line (${result.message}); you keep your place.`);
  }
}
