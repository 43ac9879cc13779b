/**
 * Shared shape of `npm run bench` results: each bench script produces sections, `bench/run.ts`
 * prints them as tables and writes them as JSON. A check is a named target with a verdict.
 */
export interface BenchCheck {
  name: string;
  pass: boolean;
  detail: string;
}

export interface BenchSection {
  title: string;
  /** Where the numbers came from (e.g. "miniflare, one workerd, loopback"). */
  setup: string;
  columns: string[];
  rows: Array<Array<string | number>>;
  checks: BenchCheck[];
}

/** Percentile of an unsorted sample (nearest rank). Returns NaN for an empty sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Renders a section as a Markdown table (docs/performance.md holds the same text). */
export function renderSection(section: BenchSection): string {
  const header = `| ${section.columns.join(" | ")} |`;
  const rule = `| ${section.columns.map(() => "---").join(" | ")} |`;
  const body = section.rows.map((row) => `| ${row.join(" | ")} |`);
  const checks = section.checks.map((check) => `- ${check.pass ? "PASS" : "FAIL"} ${check.name}: ${check.detail}`);
  return [`### ${section.title}`, "", `_${section.setup}_`, "", header, rule, ...body, "", ...checks].join("\n");
}
