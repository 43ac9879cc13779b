/**
 * `npm run bench`: runs every bench, prints each section as a table, writes the JSON to
 * bench/results/latest.json and the tables into the README's performance section.
 * Exits non-zero if any check failed. Loopback only; every run is bounded in count and time.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BenchSection, renderSection } from "./lib.ts";

const root = join(import.meta.dirname, "..");
const benches: Record<string, () => Promise<BenchSection[]>> = {
  // Loaded when run, so one section's broken import does not stop the others.
  heartbeats: async () => (await import("./heartbeats.ts")).runHeartbeatBench(),
  "balance-sim": async () => (await import("./balance-sim.ts")).runBalanceSim(),
  "chain-eval": async () => (await import("./chain-eval.ts")).runChainEvalBench(),
  select: async () => (await import("./select.ts")).runSelectBench(),
  relay: async () => (await import("./relay.ts")).runRelayBench(),
  channel: async () => (await import("./channel/channel.ts")).runChannelBench(),
};

const only = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const sections: BenchSection[] = [];
for (const [name, run] of Object.entries(benches)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name} …\n`);
  const result = await run();
  for (const section of result) console.log(`${renderSection(section)}\n`);
  sections.push(...result);
}

const when = new Date().toISOString();
mkdirSync(join(root, "bench", "results"), { recursive: true });
writeFileSync(join(root, "bench", "results", "latest.json"), `${JSON.stringify({ when, sections }, null, 2)}\n`);
console.log(JSON.stringify({ when, sections }));

if (only.length === 0) {
  const readmePath = join(root, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from >= 0 && to > from) {
    const tables = sections.map(renderSection).join("\n\n");
    const block = `${start}\nLatest \`npm run bench\` (${when}):\n\n${tables}\n${end}`;
    writeFileSync(readmePath, readme.slice(0, from) + block + readme.slice(to + end.length));
  }
}

const failed = sections.flatMap((section) => section.checks.filter((check) => !check.pass));
if (failed.length > 0) {
  console.error(`bench: ${failed.length} check(s) failed: ${failed.map((check) => check.name).join("; ")}`);
  process.exit(1);
}
