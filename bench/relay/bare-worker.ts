/**
 * The runtime's own pass-through for the relay bench: a Worker that is nothing but
 * `fetch(origin, request)`, served by the same workerd binary as the broker (Miniflare's), under
 * the broker's compatibility date and flags, on a socket of its own as the broker relay is
 * measured. Its row is what workerd alone costs on this path, so the broker relay's gap to it is
 * the broker's own overhead (ticket, assertion, origin lookup) and its gap to HAProxy is the
 * runtime's. Loopback only.
 */
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { childProcesses } from "../../test/harness/proc.ts";
import { workerCompatibility } from "../lib/bench-worker.ts";

/** The whole Worker: the client's request, upgrade headers and all, passed to the origin; the origin's 101 returned as it is. */
const BARE_WORKER = "export default { fetch: (request, env) => fetch(env.ORIGIN, request) };";

export interface BarePassThrough {
  /** `http://127.0.0.1:P`, the Worker's own socket. */
  url: string;
  workerdPid: number;
  stop(): Promise<void>;
}

export async function startBarePassThrough(originUrl: string): Promise<BarePassThrough> {
  const before = new Set(childProcesses(process.pid, "workerd"));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: BARE_WORKER,
      ...workerCompatibility(),
      bindings: { ORIGIN: originUrl },
      host: "127.0.0.1",
      port: 0,
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    }),
  );
  try {
    await mf.ready;
    const url = (await mf.unsafeGetDirectURL("")).toString().replace(/\/$/, "");
    const spawned = childProcesses(process.pid, "workerd").filter((pid) => !before.has(pid));
    if (spawned.length !== 1) throw new Error(`the bare pass-through's workerd could not be identified (${spawned.length} new workerd processes)`);
    return { url, workerdPid: spawned[0] as number, stop: () => mf.dispose() };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}
