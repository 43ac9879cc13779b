/**
 * Where a select's time goes inside the pool object: serves select-breakdown-worker.ts (the
 * real PoolObject with a timing method) from one workerd through Miniflare and asks it to time
 * each part of a select. Loopback only.
 */
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { bundleBenchWorker, workerCompatibility } from "../lib/bench-worker.ts";

/** One part of a select: what it is, its mean cost per call in ms, and how many calls were timed. */
export interface Part {
  part: string;
  ms: number;
  calls: number;
}

/** Times each part of a select inside the object, with `nodes` nodes and `reservations` live ones. */
export async function breakdownInObject(nodes: number, reservations: number): Promise<Part[]> {
  const scriptPath = await bundleBenchWorker("balancing/select-breakdown-worker");
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      scriptPath,
      ...workerCompatibility(),
      durableObjects: { BREAKDOWN: { className: "BreakdownPool", useSQLite: true } },
      host: "127.0.0.1",
      port: 0,
    }),
  );
  try {
    const url = (await mf.ready).toString().replace(/\/$/, "");
    const setup = await fetch(`${url}/setup?nodes=${nodes}&reservations=${reservations}`);
    if (!setup.ok) throw new Error(`breakdown setup: ${await setup.text()}`);
    const response = await fetch(`${url}/breakdown`);
    if (!response.ok) throw new Error(`breakdown: ${await response.text()}`);
    return (await response.json()) as Part[];
  } finally {
    await mf.dispose();
  }
}
