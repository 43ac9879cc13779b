/** Parses `/proc/meminfo` ("MemTotal:       16314672 kB" lines) into bytes. */

export interface MemInfo {
  memTotalBytes: number;
  /** MemAvailable; on kernels before 3.14, MemFree + Buffers + Cached. */
  memAvailableBytes: number;
}

/** @throws Error if MemTotal is missing. */
export function parseMemInfo(text: string): MemInfo {
  const kib = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (match?.[1] && match[2]) kib.set(match[1], Number(match[2]));
  }
  const total = kib.get("MemTotal");
  if (total === undefined) throw new Error("meminfo has no MemTotal line");
  const available =
    kib.get("MemAvailable") ?? (kib.get("MemFree") ?? 0) + (kib.get("Buffers") ?? 0) + (kib.get("Cached") ?? 0);
  return { memTotalBytes: total * 1024, memAvailableBytes: available * 1024 };
}
