/** Parses `/proc/cpuinfo`: the number of logical CPUs and their average clock. */

export interface CpuInfo {
  /** `processor` entries; at least 1 (some kernels omit them, and a node has a CPU). */
  cpuCount: number;
  /** Average `cpu MHz`; else the GHz in `model name … @ 2.40GHz` × 1000; else 0. */
  cpuMhz: number;
}

function average(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length;
}

export function parseCpuInfo(text: string): CpuInfo {
  let processors = 0;
  const mhz: number[] = [];
  const ghzFromModel: number[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === "processor") processors += 1;
    else if (key === "cpu MHz") {
      const parsed = Number(value);
      if (Number.isFinite(parsed) && parsed > 0) mhz.push(parsed);
    } else if (key === "model name") {
      const match = /@\s*(\d+(?:\.\d+)?)\s*GHz/i.exec(value);
      if (match?.[1]) ghzFromModel.push(Number(match[1]));
    }
  }
  const cpuMhz = mhz.length > 0 ? average(mhz) : average(ghzFromModel) * 1000;
  return { cpuCount: Math.max(1, processors), cpuMhz: Math.round(cpuMhz * 1000) / 1000 };
}
