/**
 * `npm run bench [-- <section> …]`: runs every bench (or the named ones), prints each section as
 * a table, writes the JSON to bench/results/latest.json and, after a full run, the tables into
 * docs/performance.md. Exits non-zero if any check failed. Loopback only; every run is bounded
 * in count and time.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBalanceSim } from "./balancing/balance-sim.ts";
import { runHeartbeatBench } from "./heartbeats/heartbeats.ts";
import { PERFORMANCE_DOC, writePerformanceDoc } from "./lib/perf-doc.ts";
import { type BenchSection, renderSection } from "./lib/sections.ts";

const resultsDir = join(import.meta.dirname, "results");
const benches: Record<string, () => Promise<BenchSection[]>> = {
  heartbeats: runHeartbeatBench,
  "balance-sim": runBalanceSim,
  "chain-eval": async () => (await import("./balancing/chain-eval.ts")).runChainEvalBench(),
  select: async () => (await import("./balancing/select.ts")).runSelectBench(),
  "select-dry-run": async () => (await import("./balancing/select-dry-run.ts")).runDryRunBench(),
  relay: async () => (await import("./relay/relay.ts")).runRelayBench(),
  gateway: async () => (await import("./gateway/gateway.ts")).runGatewayBench(),
  "relayed-path": async () => (await import("./relayed-path/relayed-path.ts")).runRelayedPathBench(),
  channel: async () => (await import("./channel/channel.ts")).runChannelBench(),
  ssh: async () => (await import("./ssh/ssh.ts")).runSshBench(),
  "start-latency": async () => (await import("./start-latency/start-latency.ts")).runStartLatencyBench(),
  "wait-line": async () => (await import("./wait-line/wait-line.ts")).runWaitLineBench(),
};

const only = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const unknown = only.filter((name) => !(name in benches));
if (unknown.length > 0) {
  console.error(`bench: no section ${unknown.join(", ")} (sections: ${Object.keys(benches).join(", ")})`);
  process.exit(2);
}
const sections: BenchSection[] = [];
for (const [name, run] of Object.entries(benches)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name} …\n`);
  const result = await run();
  for (const section of result) console.log(`${renderSection(section)}\n`);
  sections.push(...result);
}

const when = new Date().toISOString();
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, "latest.json"), `${JSON.stringify({ when, sections }, null, 2)}\n`);
console.log(JSON.stringify({ when, sections }));

if (only.length === 0 && !writePerformanceDoc(sections, when)) console.error(`bench: no bench markers in ${PERFORMANCE_DOC}; tables not written there`);

const failed = sections.flatMap((section) => section.checks.filter((check) => !check.pass));
if (failed.length > 0) {
  console.error(`bench: ${failed.length} check(s) failed: ${failed.map((check) => check.name).join("; ")}`);
  process.exit(1);
}
