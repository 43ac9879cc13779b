/** Statistics per route, during the timed run only. */
import type { Answer } from "./http.ts";
import type { Timeline } from "./timeline.ts";

export const ROUTES = ["POST /v1/agent/heartbeat", "POST /v1/auth/login", "GET /v1/profiles", "GET /v1/sessions", "POST /v1/sessions"] as const;
export type Route = (typeof ROUTES)[number];

export class RouteStats {
  readonly latencies = new Map<Route, number[]>(ROUTES.map((route) => [route, []]));
  readonly errorCounts = new Map<Route, number>(ROUTES.map((route) => [route, 0]));
  /** The first 20 unexpected answers, during setup and checks too. */
  readonly errorSamples: string[] = [];
  /** True during the timed run: only then are latencies and errors counted. */
  measuring = false;
  readonly #timeline: Timeline;

  constructor(timeline: Timeline) {
    this.#timeline = timeline;
  }

  /** Whether `answer` has the `expected` status; counts it while measuring. */
  record(route: Route, answer: Answer, expected: number): boolean {
    const ok = answer.status === expected;
    if (this.measuring) {
      this.#timeline.count(answer.ms);
      this.latencies.get(route)?.push(answer.ms);
      if (!ok) this.errorCounts.set(route, (this.errorCounts.get(route) ?? 0) + 1);
    }
    if (!ok && this.errorSamples.length < 20) this.errorSamples.push(`${route}: ${answer.status} ${answer.text.slice(0, 200)}`);
    return ok;
  }

  /** Every latency measured, all routes together. */
  all(): number[] {
    return ROUTES.flatMap((route) => this.latencies.get(route) ?? []);
  }
}
