import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCpuInfo } from "../../../agent/collect/cpuinfo.ts";
import { parseLoadAvg } from "../../../agent/collect/loadavg.ts";
import { parseMemInfo } from "../../../agent/collect/meminfo.ts";
import { readProcMetrics } from "../../../agent/collect/proc.ts";
import { FIXTURES } from "./helpers.ts";

const fixture = (name: string) => readFile(join(FIXTURES, "proc", name), "utf8");

describe("/proc parsers", () => {
  it("reads the three load averages from loadavg", async () => {
    expect(parseLoadAvg(await fixture("loadavg"))).toEqual([0.52, 0.58, 0.61]);
  });

  it("refuses a loadavg without three numbers", () => {
    expect(() => parseLoadAvg("0.5 nope")).toThrow(/unreadable loadavg/);
  });

  it("converts MemTotal and MemAvailable from kB to bytes", async () => {
    expect(parseMemInfo(await fixture("meminfo"))).toEqual({
      memTotalBytes: 16_314_672 * 1024,
      memAvailableBytes: 9_876_544 * 1024,
    });
  });

  it("falls back to MemFree + Buffers + Cached on kernels without MemAvailable", () => {
    const old = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n";
    expect(parseMemInfo(old)).toEqual({ memTotalBytes: 1000 * 1024, memAvailableBytes: 420 * 1024 });
  });

  it("refuses meminfo without MemTotal", () => {
    expect(() => parseMemInfo("MemFree: 1 kB\n")).toThrow(/MemTotal/);
  });

  it("counts processors and averages cpu MHz", async () => {
    const info = parseCpuInfo(await fixture("cpuinfo"));
    expect(info.cpuCount).toBe(4);
    expect(info.cpuMhz).toBeCloseTo((2400 + 3391.212 + 1800.004 + 2995.784) / 4, 3);
  });

  it("takes the GHz of the model name when there is no cpu MHz line", () => {
    const text = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\n";
    expect(parseCpuInfo(text)).toEqual({ cpuCount: 2, cpuMhz: 2400 });
  });

  it("reports 0 MHz and at least one CPU when nothing is known", () => {
    expect(parseCpuInfo("Hardware\t: BCM2835\n")).toEqual({ cpuCount: 1, cpuMhz: 0 });
  });

  it("reads all three files from a proc root", async () => {
    const metrics = await readProcMetrics(join(FIXTURES, "proc"), (path) => readFile(path, "utf8"));
    expect(metrics).toMatchObject({ loadAvg: [0.52, 0.58, 0.61], cpuCount: 4, memTotalBytes: 16_314_672 * 1024 });
  });

  it("names the file that could not be read", async () => {
    await expect(readProcMetrics("/nonexistent-proc", (path) => readFile(path, "utf8"))).rejects.toThrow(/\/nonexistent-proc\/\w+: /);
  });
});
