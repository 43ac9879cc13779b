/**
 * The heartbeat loop: chained timers (never `setInterval`), at most one beat in flight, a ±10 %
 * jittered interval, full-jitter backoff after failures, and a failed or throwing beat never
 * ends it (the shape of trigger.dev's `IntervalService`).
 */
import { MAX_HEARTBEAT_INTERVAL_MS, MIN_HEARTBEAT_INTERVAL_MS } from "../src/protocol.ts";
import { fullJitterBackoffMs, jitteredIntervalMs, nearCapDelayMs } from "./backoff.ts";
import { type AgentDeps, errorMessage } from "./deps.ts";
import type { BeatOutcome } from "./heartbeat-client.ts";

export interface HeartbeatLoopOptions {
  /** Interval until the broker says otherwise (from enrolment), ms. */
  intervalMs: number;
  /** Upper bound of the failure backoff, and the delay after the key was refused, ms. */
  maxBackoffMs: number;
  /** Collects and sends one heartbeat. May throw: the loop counts that as a failure. */
  beat: (signal: AbortSignal) => Promise<BeatOutcome>;
}

export interface HeartbeatLoop {
  /**
   * Sends the next beat now instead of at the end of the interval (a launched session changed),
   * unless one is in flight. Backoff after failures is kept: only a waiting interval is cut short.
   */
  beatSoon(): void;
  /** Stops scheduling, aborts the beat in flight and resolves once it has settled. Idempotent. */
  stop(): Promise<void>;
}

export type LoopDeps = Pick<AgentDeps, "setTimer" | "clearTimer" | "random" | "log">;

const clampIntervalMs = (intervalMs: number) =>
  Math.min(MAX_HEARTBEAT_INTERVAL_MS, Math.max(MIN_HEARTBEAT_INTERVAL_MS, intervalMs));

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Starts beating at once; the first beat runs on the next timer turn. */
export function startHeartbeatLoop(options: HeartbeatLoopOptions, deps: LoopDeps): HeartbeatLoop {
  const controller = new AbortController();
  let intervalMs = clampIntervalMs(options.intervalMs);
  let failures = 0;
  let everAccepted = false;
  let draining = false;
  let stopped = false;
  let timer: unknown = null;
  let inFlight: Promise<void> | null = null;

  /** Decides the delay before the next beat, and logs what an operator needs to know. */
  const afterOutcome = (outcome: BeatOutcome): number => {
    switch (outcome.kind) {
      case "accepted": {
        const { reply } = outcome;
        if (!everAccepted || failures > 0) {
          deps.log(`heartbeat accepted (status ${reply.status}, interval ${reply.intervalMs} ms)`);
        }
        if (reply.draining !== draining) {
          deps.log(reply.draining ? "node is draining: the broker sends no new sessions here" : "node is no longer draining");
        }
        everAccepted = true;
        failures = 0;
        draining = reply.draining;
        intervalMs = clampIntervalMs(reply.intervalMs);
        return jitteredIntervalMs(intervalMs, deps.random);
      }
      case "stale":
        deps.log("heartbeat refused as stale (sequence not above the last accepted one); bumped the sequence");
        return jitteredIntervalMs(intervalMs, deps.random);
      case "refused": {
        const delayMs = nearCapDelayMs(options.maxBackoffMs, deps.random);
        deps.log(
          `heartbeat refused with HTTP ${outcome.status}: the broker does not accept this node's key ` +
            `(node removed, or re-enrolled elsewhere); run \`agent enroll\` again. Retrying in ${seconds(delayMs)}`,
        );
        failures += 1;
        return delayMs;
      }
      case "failed": {
        failures += 1;
        const backoffMs = fullJitterBackoffMs(failures - 1, intervalMs, options.maxBackoffMs, deps.random);
        const delayMs = Math.max(MIN_HEARTBEAT_INTERVAL_MS, backoffMs);
        deps.log(`heartbeat failed (attempt ${failures}): ${outcome.reason}; retrying in ${seconds(delayMs)}`);
        return delayMs;
      }
    }
  };

  const tick = async (): Promise<void> => {
    let delayMs = intervalMs;
    try {
      let outcome: BeatOutcome;
      try {
        outcome = await options.beat(controller.signal);
      } catch (error) {
        outcome = { kind: "failed", reason: errorMessage(error) };
      }
      if (!stopped) delayMs = afterOutcome(outcome);
    } catch {
      // Only a throwing `log` can get here; keep beating at the plain interval.
    } finally {
      schedule(delayMs);
    }
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = deps.setTimer(() => {
      timer = null;
      inFlight = tick().finally(() => {
        inFlight = null;
      });
    }, delayMs);
  };

  schedule(0);

  return {
    beatSoon() {
      if (stopped || timer === null || inFlight !== null || failures > 0) return;
      deps.clearTimer(timer);
      timer = null;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer !== null) deps.clearTimer(timer);
      timer = null;
      controller.abort(new Error("agent is shutting down"));
      await inFlight;
    },
  };
}
