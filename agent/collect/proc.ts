/** Reads the load, memory and CPU facts of a heartbeat from a procfs root (fixtures in tests). */
import { join } from "node:path";
import { parseCpuInfo } from "./cpuinfo.ts";
import { parseLoadAvg, type LoadAvg } from "./loadavg.ts";
import { parseMemInfo } from "./meminfo.ts";

export interface ProcMetrics {
  loadAvg: LoadAvg;
  cpuCount: number;
  cpuMhz: number;
  memTotalBytes: number;
  memAvailableBytes: number;
}

/** @throws Error naming the file that could not be read or parsed. */
export async function readProcMetrics(procRoot: string, readText: (path: string) => Promise<string>): Promise<ProcMetrics> {
  const read = async <T>(name: string, parse: (text: string) => T): Promise<T> => {
    const path = join(procRoot, name);
    try {
      return parse(await readText(path));
    } catch (error) {
      throw new Error(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const [loadAvg, mem, cpu] = await Promise.all([
    read("loadavg", parseLoadAvg),
    read("meminfo", parseMemInfo),
    read("cpuinfo", parseCpuInfo),
  ]);
  return { loadAvg, ...mem, ...cpu };
}
