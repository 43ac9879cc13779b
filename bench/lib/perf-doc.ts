/** docs/performance.md: `npm run bench` replaces the tables between its two markers, and nothing else. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BenchSection, renderSection } from "./sections.ts";

export const PERFORMANCE_DOC = join(import.meta.dirname, "..", "..", "docs", "performance.md");
const START = "<!-- bench:start -->";
const END = "<!-- bench:end -->";

/** Writes the tables of a full run into docs/performance.md; false if the markers are missing. */
export function writePerformanceDoc(sections: BenchSection[], when: string): boolean {
  const doc = readFileSync(PERFORMANCE_DOC, "utf8");
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) return false;
  const tables = sections.map(renderSection).join("\n\n");
  const block = `${START}\nLatest \`npm run bench\` (${when}):\n\n${tables}\n${END}`;
  writeFileSync(PERFORMANCE_DOC, doc.slice(0, from) + block + doc.slice(to + END.length));
  return true;
}
