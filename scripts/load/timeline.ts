/** The run second by second: requests, the slowest one, and the CPU workerd and this client used. */
import { round } from "../../bench/lib/sections.ts";
import { cpuSeconds } from "../../test/harness/proc.ts";

/** CPU time a process has used so far, in ms; null once it is gone. */
export function processCpuMs(pid: number): number | null {
  const seconds = cpuSeconds(pid);
  return Number.isNaN(seconds) ? null : seconds * 1000;
}

/**
 * Per second of the run: requests completed, the slowest, and the CPU workerd and this client
 * used (percent of one core). Stalls show up here as a slow second across every route; on a
 * machine shared with other work they usually line up with someone else's CPU burst.
 */
export interface Second {
  second: number;
  requests: number;
  maxMs: number;
  workerdCpu: number | null;
  clientCpu: number;
}

export class Timeline {
  readonly seconds: Second[] = [];
  #current: Second | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;

  start(workerdPid: number | null): void {
    let lastWorkerd = workerdPid ? processCpuMs(workerdPid) : null;
    let lastClient = process.cpuUsage();
    let lastAt = performance.now();
    this.#current = { second: 0, requests: 0, maxMs: 0, workerdCpu: null, clientCpu: 0 };
    this.#timer = setInterval(() => {
      const current = this.#current;
      if (!current) return;
      const now = performance.now();
      const elapsed = now - lastAt;
      const workerd = workerdPid ? processCpuMs(workerdPid) : null;
      const client = process.cpuUsage();
      current.workerdCpu = workerd !== null && lastWorkerd !== null ? round(((workerd - lastWorkerd) / elapsed) * 100, 0) : null;
      current.clientCpu = round(((client.user - lastClient.user + client.system - lastClient.system) / 1000 / elapsed) * 100, 0);
      current.maxMs = round(current.maxMs, 0);
      this.seconds.push(current);
      this.#current = { second: current.second + 1, requests: 0, maxMs: 0, workerdCpu: null, clientCpu: 0 };
      lastWorkerd = workerd;
      lastClient = client;
      lastAt = now;
    }, 1000);
  }

  /** Counts a completed request in the current second (nothing before start or after stop). */
  count(ms: number): void {
    if (!this.#current) return;
    this.#current.requests += 1;
    this.#current.maxMs = Math.max(this.#current.maxMs, ms);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#current = null;
  }
}
