/** The table and the JSON a load run prints: the numbers per route, CPU, heartbeat gaps and the checks. */
import { percentile, round, type BenchSection } from "../../bench/lib/sections.ts";
import type { SimNode } from "./agents.ts";
import type { Checks } from "./checks.ts";
import type { Start } from "./clients.ts";
import { INTERVAL_MS, type LoadOptions, MAX_SOCKETS, SETTLE_MS, WORK_MS } from "./options.ts";
import { ROUTES, type RouteStats } from "./stats.ts";
import type { Second } from "./timeline.ts";

/** Everything a finished run measured. */
export interface LoadRun {
  options: LoadOptions;
  rateLimits: string[];
  setupSeconds: number;
  runSeconds: number;
  /** This process's CPU use during the run. */
  clientCpu: NodeJS.CpuUsage;
  /** workerd's CPU time before and after the run, ms; null where it could not be read. */
  workerdBeforeMs: number | null;
  workerdAfterMs: number | null;
  loadBefore: number;
  loadAfter: number;
  stats: RouteStats;
  timeline: Second[];
  starts: readonly Start[];
  nodes: readonly SimNode[];
  checks: Checks;
}

export interface Summary {
  run: LoadRun;
  rows: Array<{ route: string; requests: number; perSecond: number; p50: number; p99: number; errors: number }>;
  total: number;
  errors: number;
  placed: number;
  maxGapMs: number;
  nodesWithDownGap: number;
  clientCpuPercent: number;
  workerdCpuPercent: number | null;
}

export function summarize(run: LoadRun): Summary {
  const { runSeconds, stats, clientCpu, workerdBeforeMs, workerdAfterMs } = run;
  const rows = ROUTES.map((route) => {
    const sample = stats.latencies.get(route) ?? [];
    return { route, requests: sample.length, perSecond: round(sample.length / runSeconds, 1), p50: round(percentile(sample, 50)), p99: round(percentile(sample, 99)), errors: stats.errorCounts.get(route) ?? 0 };
  });
  const gaps = run.nodes.map((node) => node.maxGapMs);
  return {
    run,
    rows,
    total: rows.reduce((sum, row) => sum + row.requests, 0),
    errors: rows.reduce((sum, row) => sum + row.errors, 0),
    placed: run.starts.filter((start) => !start.resumed).length,
    maxGapMs: round(Math.max(0, ...gaps), 0),
    nodesWithDownGap: gaps.filter((gap) => gap >= 3 * INTERVAL_MS).length,
    clientCpuPercent: round(((clientCpu.user + clientCpu.system) / 1000 / (runSeconds * 1000)) * 100, 0),
    workerdCpuPercent: workerdBeforeMs !== null && workerdAfterMs !== null ? round(((workerdAfterMs - workerdBeforeMs) / (runSeconds * 1000)) * 100, 0) : null,
  };
}

/** The Markdown table with its checks; a failed check makes the run exit 1. */
export function reportSection(summary: Summary): BenchSection {
  const { run, rows, total, errors, placed, maxGapMs, nodesWithDownGap, clientCpuPercent, workerdCpuPercent } = summary;
  const { options, runSeconds, stats, starts, checks } = run;
  const { agents } = options;
  return {
    title: "Load: agents and users together",
    setup:
      `broker in one workerd (Miniflare API, rate-limit bindings from wrangler.toml), ${agents} agents beating every ${INTERVAL_MS} ms (real signed beats), ` +
      `${options.clients} users (sign in, profiles, sessions, start, work ${WORK_MS[0] / 1000}-${WORK_MS[1] / 1000} s ×${options.thinkScale}, log off), ${round(runSeconds, 1)} s, ` +
      `client on the same 2-core machine, loopback, ${MAX_SOCKETS} keep-alive sockets; CPU: workerd ${workerdCpuPercent ?? "?"} %, client ${clientCpuPercent} % of one core; ` +
      `machine load average ${round(run.loadBefore, 1)} → ${round(run.loadAfter, 1)}`,
    columns: ["route", "requests", "req/s", "p50 ms", "p99 ms", "errors"],
    rows: [
      ...rows.map((row) => [row.route, row.requests, row.perSecond, row.p50, row.p99, row.errors]),
      ["all", total, round(total / runSeconds, 1), round(percentile(stats.all(), 50)), round(percentile(stats.all(), 99)), errors],
    ],
    checks: [
      { name: "zero errors", pass: errors === 0, detail: `${errors} errors${stats.errorSamples.length > 0 ? `; first: ${stats.errorSamples.slice(0, 3).join(" | ")}` : ""}` },
      { name: "every session placed is accounted for", pass: checks.lostSessions.length === 0, detail: `${starts.length} starts (${placed} new placements, ${starts.length - placed} resumes); ${checks.lostSessions.length} lost${checks.lostSessions.length > 0 ? `: ${checks.lostSessions.slice(0, 3).join("; ")}` : ""}` },
      { name: "no reservation left unconfirmed", pass: checks.pendingReservations === 0, detail: `${checks.pendingReservations} pending after ${SETTLE_MS} ms of settling` },
      { name: "every logged placement was answered to a client", pass: checks.unmatchedDecisions === 0, detail: `${checks.decisionsChecked} recent start decisions checked, ${checks.unmatchedDecisions} unmatched` },
      {
        name: "every live node is up",
        pass: checks.notUpAtEnd.length === 0 && checks.downDuringRun === 0,
        detail:
          `${agents - checks.notUpAtEnd.length}/${agents} up at the end; ${checks.downDuringRun} not-up sightings in ${checks.polls} polls during the run; ` +
          `longest gap between a node's accepted beats ${maxGapMs} ms (${nodesWithDownGap} node(s) ≥ ${3 * INTERVAL_MS} ms)`,
      },
    ],
  };
}

/** The JSON line (and `--json` file): parameters, numbers, the per-second timeline and the checks. */
export function reportResult(summary: Summary, section: BenchSection) {
  const { run, rows, total, errors, placed, maxGapMs, nodesWithDownGap, clientCpuPercent, workerdCpuPercent } = summary;
  const { options, runSeconds, starts } = run;
  return {
    when: new Date().toISOString(),
    parameters: { seconds: options.runSeconds, agents: options.agents, clients: options.clients, thinkScale: options.thinkScale, intervalMs: INTERVAL_MS, maxSockets: MAX_SOCKETS, rateLimits: run.rateLimits },
    setupSeconds: round(run.setupSeconds, 1),
    runSeconds: round(runSeconds, 2),
    routes: rows,
    total: { requests: total, perSecond: round(total / runSeconds, 1), errors },
    cpu: { workerdPercentOfOneCore: workerdCpuPercent, clientPercentOfOneCore: clientCpuPercent },
    machineLoadAverage: { before: round(run.loadBefore, 2), after: round(run.loadAfter, 2) },
    heartbeatGaps: { maxMs: maxGapMs, nodesAtOrAboveDownThreshold: nodesWithDownGap },
    timeline: run.timeline,
    sessions: { starts: starts.length, placed, resumed: starts.length - placed, seenDuringRun: starts.filter((start) => start.seen).length, lost: run.checks.lostSessions },
    checks: section.checks,
    errorSamples: run.stats.errorSamples,
  };
}
