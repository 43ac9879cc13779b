import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BeatOutcome } from "../../../agent/heartbeat-client.ts";
import { startHeartbeatLoop } from "../../../agent/loop.ts";
import { fakeDeps } from "./helpers.ts";

const INTERVAL_MS = 1_000;
const accepted = (intervalMs = INTERVAL_MS, draining = false): BeatOutcome => ({
  kind: "accepted",
  reply: { status: draining ? "draining" : "up", draining, intervalMs },
});

/** Records the fake time at which each beat starts. */
function beatLog(outcome: (index: number) => Promise<BeatOutcome> | BeatOutcome) {
  const startedAtMs: number[] = [];
  const beat = vi.fn(async (_signal: AbortSignal) => {
    startedAtMs.push(Date.now());
    return outcome(startedAtMs.length - 1);
  });
  return { beat, startedAtMs };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("heartbeat loop scheduling", () => {
  it("beats at once, then every interval (random 0.5 = no jitter)", async () => {
    const { beat, startedAtMs } = beatLog(() => accepted());
    const loop = startHeartbeatLoop({ intervalMs: INTERVAL_MS, maxBackoffMs: 60_000, beat }, fakeDeps());
    await vi.advanceTimersByTimeAsync(3_500);
    expect(startedAtMs).toEqual([0, 1_000, 2_000, 3_000]);
    await loop.stop();
  });

  it("never runs two beats at once, even when one takes three intervals", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const beat = vi.fn(async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
      inFlight -= 1;
      return accepted();
    });
    const loop = startHeartbeatLoop({ intervalMs: INTERVAL_MS, maxBackoffMs: 60_000, beat }, fakeDeps());
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
    expect(maxInFlight).toBe(1);
    // Beats start at 0, 4 000 and 8 000: each waits for the previous one, then one interval.
    expect(beat).toHaveBeenCalledTimes(3);
    // The third beat ignores the abort; stop() resolves once it settles.
    const stopped = loop.stop();
    await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    await stopped;
    expect(beat).toHaveBeenCalledTimes(3);
  });

  it("jitters the interval within ±10 %", async () => {
    const { beat, startedAtMs } = beatLog(() => accepted());
    const loop = startHeartbeatLoop({ intervalMs: INTERVAL_MS, maxBackoffMs: 60_000, beat }, fakeDeps({ random: () => 0 }));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(startedAtMs).toEqual([0, 900, 1_800]);
    await loop.stop();
  });

  it("adopts the interval from the broker's reply", async () => {
    const { beat, startedAtMs } = beatLog(() => accepted(250));
    const deps = fakeDeps();
    const loop = startHeartbeatLoop({ intervalMs: 5_000, maxBackoffMs: 60_000, beat }, deps);
    await vi.advanceTimersByTimeAsync(800);
    expect(startedAtMs).toEqual([0, 250, 500, 750]);
    expect(deps.lines[0]).toBe("heartbeat accepted (status up, interval 250 ms)");
    await loop.stop();
  });

  it("logs when draining changes", async () => {
    const { beat } = beatLog((i) => accepted(INTERVAL_MS, i === 1 || i === 2));
    const deps = fakeDeps();
    const loop = startHeartbeatLoop({ intervalMs: INTERVAL_MS, maxBackoffMs: 60_000, beat }, deps);
    await vi.advanceTimersByTimeAsync(3_500);
    expect(deps.lines.filter((line) => line.includes("draining"))).toEqual([
      "node is draining: the broker sends no new sessions here",
      "node is no longer draining",
    ]);
    await loop.stop();
  });
});

describe("heartbeat loop failures", () => {
  it("survives a throwing beat and keeps beating", async () => {
    const { beat, startedAtMs } = beatLog((i) => {
      if (i === 0) throw new Error("proc unreadable");
      return accepted();
    });
    const deps = fakeDeps({ random: () => 0.999 });
    const loop = startHeartbeatLoop({ intervalMs: INTERVAL_MS, maxBackoffMs: 60_000, beat }, deps);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(startedAtMs.length).toBeGreaterThanOrEqual(4);
    expect(deps.lines[0]).toMatch(/^heartbeat failed \(attempt 1\): proc unreadable; retrying in /);
    await loop.stop();
  });

  it("backs off exponentially with full jitter up to the cap, and resets after success", async () => {
    const { beat, startedAtMs } = beatLog((i) => (i < 7 ? { kind: "failed", reason: "HTTP 503" } : accepted()));
    // random ≈ 1 picks the top of each window: 1 s, 2 s, 4 s, 5 s (cap), 5 s, …
    const loop = startHeartbeatLoop({ intervalMs: INTERVAL_MS, maxBackoffMs: 5_000, beat }, fakeDeps({ random: () => 0.999_999_9 }));
    await vi.advanceTimersByTimeAsync(40_000);
    const gapsMs = startedAtMs.slice(1).map((t, i) => t - (startedAtMs[i] ?? 0));
    expect(gapsMs.slice(0, 8)).toEqual([1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000, 1_100]);
    await loop.stop();
  });

  it("waits about the max backoff after the key was refused, and says why", async () => {
    const { beat, startedAtMs } = beatLog(() => ({ kind: "refused", status: 401 }));
    const deps = fakeDeps({ random: () => 0 });
    const loop = startHeartbeatLoop({ intervalMs: INTERVAL_MS, maxBackoffMs: 10_000, beat }, deps);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(startedAtMs).toEqual([0, 9_000, 18_000]);
    expect(deps.lines[0]).toMatch(/HTTP 401: the broker does not accept this node's key \(node removed, or re-enrolled elsewhere\)/);
    await loop.stop();
  });

  it("retries a stale beat at the next interval", async () => {
    const { beat, startedAtMs } = beatLog((i) => (i === 0 ? { kind: "stale" } : accepted()));
    const loop = startHeartbeatLoop({ intervalMs: INTERVAL_MS, maxBackoffMs: 60_000, beat }, fakeDeps());
    await vi.advanceTimersByTimeAsync(1_500);
    expect(startedAtMs).toEqual([0, 1_000]);
    await loop.stop();
  });
});

describe("heartbeat loop stop", () => {
  it("aborts the beat in flight, waits for it, and schedules nothing more", async () => {
    let aborted = false;
    const beat = vi.fn(
      (signal: AbortSignal) =>
        new Promise<BeatOutcome>((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve({ kind: "failed", reason: "aborted" });
          });
        }),
    );
    const loop = startHeartbeatLoop({ intervalMs: INTERVAL_MS, maxBackoffMs: 60_000, beat }, fakeDeps());
    await vi.advanceTimersByTimeAsync(10);
    await loop.stop();
    expect(aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
    expect(beat).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
