/**
 * The wait line (`npm run bench -- wait-line`, issue 16 item 8): how long a freed slot takes to
 * reach the waiting client over long-poll (latency.ts), and what 1,000 users waiting on one pool
 * cost per operation and in workerd's memory (thousand.ts). Users are OIDC users with ID tokens
 * from a local IdP (setup.ts), so a thousand distinct users need no password sign-ins. One
 * workerd; loopback only; bounded in count and time (about two minutes).
 */
import type { BenchSection } from "../lib/sections.ts";
import { percentile, round } from "../lib/sections.ts";
import { LATENCY_PARK_MS, LATENCY_SAMPLES, LATENCY_SLOTS, LATENCY_WAITERS, LATENCY_WARM_UP, measureFreeLatency } from "./latency.ts";
import { startIdp, startOidcBroker } from "./setup.ts";
import { CONCURRENCY, HERD_PLACEMENTS, measureThousand, type Op, USERS } from "./thousand.ts";

const GOAL_MS = 100;
const MB = 1024 * 1024;

const stats = (values: number[]) => [values.length, round(percentile(values, 50)), round(percentile(values, 99)), round(Math.max(...values))];

export async function runWaitLineBench(): Promise<BenchSection[]> {
  const idp = await startIdp();
  const broker = await startOidcBroker(idp);
  try {
    const free = await measureFreeLatency(broker, idp);
    const thousand = await measureThousand(broker, idp);
    const where = `broker in one workerd (Miniflare API, the Worker's own socket); OIDC users: RS256 ID tokens from a local IdP whose JWKS is served over loopback HTTP (OIDC_ISSUER/AUDIENCE/JWKS_URL), verified on every request; relay profiles with a wait line, open to the IdP's group by their ACL; client, IdP and workerd on the same 2-core machine, loopback`;
    const freeSection: BenchSection = {
      title: "Wait line: a slot frees → the waiting client holds its answer",
      setup: `${where}; one node with ${LATENCY_SLOTS} slots, all taken; ${LATENCY_WAITERS} users wait, each long-polling GET /v1/queue/:id?wait=30&position=N and asking again at once with each new position; a slot frees when the node's signed heartbeat (POST /v1/agent/heartbeat) no longer lists one of its sessions, as the agent reports a session that ended (at once for a launched session, else at its next beat); time from that heartbeat leaving the client (after signing) to the head's answer, 200 with a relay ticket, being read; then the node's next beat lists the placed user's session and a newcomer joins the back; ${LATENCY_PARK_MS} ms pause before each free so every long-poll is held; ${LATENCY_WARM_UP} untimed rounds first`,
      columns: ["from → to", "samples", "p50 ms", "p99 ms", "max ms"],
      rows: [
        ["freeing heartbeat sent → head's answer read", ...stats(free.fromSent)],
        ["freeing heartbeat answered → head's answer read (negative: the long-poll answered first)", ...stats(free.fromAnswered)],
        ["the freeing heartbeat's own round trip", ...stats(free.beatMs)],
      ],
      checks: [
        {
          name: `a freed slot reaches the waiting client in under ${GOAL_MS} ms (p50, locally, long-poll)`,
          pass: percentile(free.fromSent, 50) < GOAL_MS,
          detail: `p50 ${round(percentile(free.fromSent, 50))} ms, p99 ${round(percentile(free.fromSent, 99))} ms over ${free.fromSent.length} frees (from the heartbeat sent)`,
        },
        {
          name: "every placed waiter got a relay ticket; every waiter behind was told its new position",
          pass: free.badAnswers.length === 0 && free.fromSent.length === LATENCY_SAMPLES && free.positionUpdates === free.positionUpdatesDue,
          detail: `${free.fromSent.length - free.badAnswers.length}/${free.fromSent.length} tickets${free.badAnswers.length > 0 ? ` (first bad: ${free.badAnswers[0]})` : ""}; ${free.positionUpdates}/${free.positionUpdatesDue} position answers`,
        },
      ],
    };

    const { ops, herd, drain, rss } = thousand;
    const opRow = (name: string, op: Op) => [name, ...stats(op.ms), round(op.cpuMs, 2), op.errors];
    const byName = (prefix: string) => ops.find((op) => op.name.startsWith(prefix)) as Op;
    const errors = ops.reduce((sum, op) => sum + op.errors, 0);
    const thousandSection: BenchSection = {
      title: "Wait line: 1,000 users waiting on one pool",
      setup: `${where}; after the section above, on the same workerd; a second pool: one node with 1 slot, taken; ${USERS} users (tokens minted beforehand; ${USERS} untimed GET /v1/profiles first); ${CONCURRENCY === 1 ? "calls one at a time (the time is the call's own, not queueing behind others)" : `calls ×${CONCURRENCY} in parallel`} unless said; CPU = workerd's user+system time (/proc, 10 ms ticks) over the calls divided by them: whole requests (the Worker with its token check, D1 reads and rate limit where the route has them, and the pool object); with everyone long-polling, a freed slot wakes every waiter (each one's position changes) and each asks again: CPU there is per freed slot, over ${HERD_PLACEMENTS} frees, and includes those ~1,000 answers and new long-polls; drain = beats with room for all (a pass tries at most 32 entries)`,
      columns: ["operation", "calls", "p50 ms", "p99 ms", "max ms", "workerd CPU ms/op", "errors"],
      rows: [
        opRow("join: POST /v1/sessions → 202, line 0 → 100", byName("join, line 0 → 100")),
        opRow(`join, line ${USERS - 100} → ${USERS}`, byName(`join, line ${USERS - 100}`)),
        opRow(`join, line 0 → ${USERS}`, byName(`join, line 0 → ${USERS}`)),
        opRow(`read my place: GET /v1/queue/:id (wait=0), ${USERS} waiting`, byName("read place")),
        opRow(`admin list: GET /v1/admin/pools/:pool/queue, ${USERS} entries (${round(thousand.listBytes / 1024, 0)} KiB)`, byName("admin list")),
        [`slot frees, ${USERS} long-polling: heartbeat sent → head's answer read`, ...stats(herd.headMs), round(herd.cpuMsPerPlacement, 0), 0],
        [`slot frees, ${USERS} long-polling: heartbeat sent → the last of the others told its new position`, ...stats(herd.allToldMs), "(same)", herd.due - herd.told],
        opRow(`heartbeat, nothing frees, ${USERS - HERD_PLACEMENTS} waiting (a pass finds the pool full)`, byName(`heartbeat, ${USERS - HERD_PLACEMENTS} waiting`)),
        opRow("heartbeat, line empty (same node, same body)", byName("heartbeat, line empty")),
        opRow("leave: DELETE /v1/queue/:id, every other waiter", byName("leave")),
        [`drain: ${drain.beats} beats with room for all place ${drain.placed} in ${round(drain.ms, 0)} ms (${drain.firstBeatPlaced} by the first); CPU per placement`, drain.placed, "–", "–", "–", round(drain.cpuMsPerPlacement, 2), 0],
      ],
      checks: [
        { name: `${USERS} users wait on one pool, each given the next place`, pass: thousand.inOrder, detail: thousand.inOrder ? `places 1…${USERS} in arrival order` : "places out of order or missing" },
        { name: "every long-polling waiter was told its new position after each freed slot", pass: herd.told === herd.due, detail: `${herd.told}/${herd.due} position answers over ${HERD_PLACEMENTS} frees` },
        { name: "zero errors", pass: errors === 0 && drain.placed > 0, detail: `${errors} errors; drain placed ${drain.placed}` },
      ],
    };

    const base = rss[0]?.bytes ?? Number.NaN;
    const memorySection: BenchSection = {
      title: "Wait line: workerd memory with 1,000 waiting",
      setup: `the run above; workerd's VmRSS (/proc/<pid>/status) at each point; the Worker and the pool object share that process; RSS also holds garbage not yet collected (V8 grows its heap and seldom gives pages back), so a rise is an upper bound on what the line keeps; the reads row is a control: ${USERS} requests that keep nothing`,
      columns: ["state", "workerd RSS MB", "Δ MB from before the line", "Δ KiB per waiter"],
      rows: rss.map(({ state, bytes }) => [state, round(bytes / MB, 1), round((bytes - base) / MB, 1), round((bytes - base) / 1024 / USERS, 1)]),
      checks: [],
    };
    return [freeSection, thousandSection, memorySection];
  } finally {
    await broker.stop();
    await idp.stop();
  }
}
