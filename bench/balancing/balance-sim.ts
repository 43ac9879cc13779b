/**
 * `npm run bench -- balance-sim`: the balancing simulation of balance-model.ts run for each chain
 * and client population, and once with one server drained mid-run; tables and checks. Also runs
 * on its own: `node bench/balancing/balance-sim.ts`.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Policy } from "../../src/balancer/policy.ts";
import { DEFAULT_POLICY } from "../../src/balancer/policy.ts";
import { type BenchSection, renderSection, round } from "../lib/sections.ts";
import { CONNECTION_EVENTS, type Drain, POPULATIONS, type Population, SEED, SERVERS, serverId, type SimOutcome, simulate, SUSPENDED_TTL_TICKS, USERS, WARMUP_TICKS } from "./balance-model.ts";

const after = (name: "least-loaded" | "power-of-two" | "user-hash" | "source-hash"): Policy => ({
  steps: [{ use: "resume" }, { use: name }],
});

const CHAINS: Array<{ label: string; policy: Policy }> = [
  { label: "resume → least-loaded", policy: after("least-loaded") },
  { label: "resume → power-of-two", policy: after("power-of-two") },
  { label: "resume → user-hash", policy: after("user-hash") },
  { label: "resume → source-hash", policy: after("source-hash") },
  { label: "default chain", policy: DEFAULT_POLICY },
  { label: "source-hash (bare, HAProxy)", policy: { steps: [{ use: "source-hash" }] } },
  { label: "user-hash (bare)", policy: { steps: [{ use: "user-hash" }] } },
];

function hitRate(outcome: SimOutcome): number {
  return outcome.resumeAttempts === 0 ? 1 : outcome.resumeHits / outcome.resumeAttempts;
}

function percent(value: number): string {
  return `${round(value * 100, 1)}%`;
}

async function placementSection(): Promise<BenchSection> {
  const rows: Array<Array<string | number>> = [];
  const checks: BenchSection["checks"] = [];
  for (const chain of CHAINS) {
    for (const [population, populationLabel] of Object.entries(POPULATIONS) as Array<[Population, string]>) {
      const outcome = await simulate(chain.policy, population);
      rows.push([
        chain.label,
        populationLabel,
        round(outcome.endMean, 1),
        round(outcome.endMaxMean, 3),
        round(outcome.worstMaxMean, 3),
        `${percent(hitRate(outcome))} (${outcome.resumeHits}/${outcome.resumeAttempts})`,
        outcome.connectionEvents,
      ]);
      if (chain.label === "resume → least-loaded") {
        checks.push({
          name: `least-loaded max/mean ≤ 1.10 (${populationLabel})`,
          pass: outcome.endMaxMean <= 1.1 && outcome.worstMaxMean <= 1.1,
          detail: `end ${round(outcome.endMaxMean, 3)}, worst after warm-up ${round(outcome.worstMaxMean, 3)}`,
        });
      }
      if (chain.label === "default chain") {
        checks.push({
          name: `default chain resume hit rate 100% (${populationLabel})`,
          pass: outcome.resumeHits === outcome.resumeAttempts && outcome.failures === 0,
          detail: `${outcome.resumeHits}/${outcome.resumeAttempts}, ${outcome.failures} failed placements`,
        });
      }
    }
  }
  return {
    title: "Balancing policies: spread and resume hits",
    setup: `pure policies in Node, seeded (seed ${SEED}); ${USERS} users, ${SERVERS} equal servers, one-minute ticks, ${CONNECTION_EVENTS} measured connection events after ${WARMUP_TICKS} warm-up ticks; suspended sessions expire after ${SUSPENDED_TTL_TICKS} ticks; max/mean is of sessions per server, worst = highest after warm-up`,
    columns: ["chain", "clients", "mean sessions/server", "max/mean (end)", "max/mean (worst)", "resume hit rate", "connections"],
    rows,
    checks,
  };
}

async function drainSection(): Promise<BenchSection> {
  const drain: Drain = { server: 3, fromTick: 300, toTick: 500 };
  const labels = ["default chain", "resume → user-hash", "user-hash (bare)"];
  const chains = CHAINS.filter((chain) => labels.includes(chain.label));
  const rows: Array<Array<string | number>> = [];
  const checks: BenchSection["checks"] = [];
  for (const chain of chains) {
    const outcome = await simulate(chain.policy, "uniform", drain);
    rows.push([chain.label, outcome.placedOnDrained, `${percent(hitRate(outcome))} (${outcome.resumeHits}/${outcome.resumeAttempts})`, round(outcome.endMaxMean, 3)]);
    if (chain.label === "default chain") {
      checks.push({
        name: "drain: no new session on the draining server, every resume still hits (default chain)",
        pass: outcome.placedOnDrained === 0 && outcome.resumeHits === outcome.resumeAttempts,
        detail: `${outcome.placedOnDrained} new placements while draining, resume ${outcome.resumeHits}/${outcome.resumeAttempts}`,
      });
    }
  }
  return {
    title: "Balancing policies: one server drained mid-run",
    setup: `as above, uniform IPs; ${serverId(drain.server)} drains from tick ${drain.fromTick} to ${drain.toTick}, then takes sessions again`,
    columns: ["chain", "new sessions on the draining server", "resume hit rate", "max/mean (end)"],
    rows,
    checks,
  };
}

export async function runBalanceSim(): Promise<BenchSection[]> {
  return [await placementSection(), await drainSection()];
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const sections = await runBalanceSim();
  for (const section of sections) console.log(`${renderSection(section)}\n`);
  console.log(JSON.stringify({ sections }));
  console.error(`balance-sim: ${round((performance.now() - started) / 1000, 2)} s`);
}
