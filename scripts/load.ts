/**
 * `npm run load [-- --seconds N --agents N --clients N --think-scale X --json FILE]`: the local
 * broker in one workerd (test/harness/broker.ts) under 200 agents heartbeating every second and
 * 200 users signing in, listing profiles and sessions, and starting sessions for 60 s.
 * Loopback only, bounded in time (the run, plus a hard stop) and in count (one loop per agent
 * and per client).
 *
 * Agents are simulated in this process but speak the real protocol: each enrols with its own
 * Ed25519 key and one-time token, and sends beats signed with the agent's own
 * `signHeartbeatToken`, chained and jittered like `agent/loop.ts`. A beat reports the sessions
 * its node holds: a session appears there once its user "connects" after a start, and goes once
 * the user logs off, as on a real node, so reservations are confirmed by heartbeats.
 *
 * Users behave like people, not like a benchmark loop: a visit is sign in, list profiles, list
 * sessions, start a session, work (looking at the session list once), log off, pause. Think
 * times set the offered load (about 60 user requests/s from 200 users plus 200 beats/s), so
 * the latencies measure service, not a queue this 2-core machine builds against itself (the
 * client's and workerd's CPU are printed to show neither is saturated). `--think-scale 0.5`
 * halves every think time, doubling the user load.
 *
 * Afterwards it checks that every session placed is accounted for (seen in the user's list on
 * the server it was placed on, or still on that server at the end; no reservation left
 * unconfirmed; every logged start decision matches a start a client was told about) and that
 * every node is `up` (and was at every poll during the run). Prints a table and the JSON, and
 * exits 1 on any error, lost session or node not up.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { renderSection } from "../bench/lib/sections.ts";
import { type LocalBroker, startBroker } from "../test/harness/broker.ts";
import { SimAgents } from "./load/agents.ts";
import { sleep } from "./load/async.ts";
import { finalChecks, pollNodes } from "./load/checks.ts";
import { SimUsers } from "./load/clients.ts";
import { BrokerHttp } from "./load/http.ts";
import { INTERVAL_MS, POOL, PROFILE_ID, readOptions, SETTLE_MS } from "./load/options.ts";
import { reportResult, reportSection, summarize } from "./load/report.ts";
import { RouteStats } from "./load/stats.ts";
import { processCpuMs, Timeline } from "./load/timeline.ts";

const options = readOptions();
const { runSeconds: RUN_SECONDS, agents: AGENTS, clients: CLIENTS } = options;

/** Hard stop: setup + run + checks never take longer than this. */
const HARD_LIMIT_MS = (RUN_SECONDS + 240) * 1000;

const hardStop = setTimeout(() => {
  console.error(`load: hard time limit of ${HARD_LIMIT_MS / 1000} s reached; giving up`);
  process.exit(3);
}, HARD_LIMIT_MS);
hardStop.unref();

async function main(): Promise<number> {
  const setupStarted = performance.now();
  process.stderr.write(`load: starting the broker (one workerd) …\n`);
  const broker: LocalBroker = await startBroker({ rateLimits: true, defaultIntervalMs: INTERVAL_MS });
  const brokerUrl = new URL(broker.url);
  if (brokerUrl.hostname !== "127.0.0.1") throw new Error(`refusing a non-loopback broker ${broker.url}`);
  const http = new BrokerHttp(brokerUrl, broker.adminToken);
  const timeline = new Timeline();
  const stats = new RouteStats(timeline);
  const agents = new SimAgents(http, stats);
  const users = new SimUsers(http, stats, agents.nodes, options.thinkScale);
  try {
    // Simulated nodes have loopback origins, allowed in this local pool only.
    await http.admin("PATCH", `/v1/admin/pools/${POOL}`, { intervalMs: INTERVAL_MS, allowPrivateOrigins: true });
    await http.admin("POST", "/v1/admin/profiles", { id: PROFILE_ID, name: "Load desktop", pool: POOL, mode: "relay", command: "XFCE", acl: {}, maxSessionsPerUser: 10 });
    process.stderr.write(`load: creating ${CLIENTS} users, enrolling ${AGENTS} agents …\n`);
    await users.create(CLIENTS);
    await agents.enrol(AGENTS);
    const setupSeconds = (performance.now() - setupStarted) / 1000;

    process.stderr.write(`load: running for ${RUN_SECONDS} s (${AGENTS} agents, ${CLIENTS} users) …\n`);
    const loadBefore = loadavg()[0] ?? 0;
    stats.measuring = true;
    timeline.start(broker.workerdPid);
    const cpuBefore = process.cpuUsage();
    const workerdBeforeMs = broker.workerdPid ? processCpuMs(broker.workerdPid) : null;
    const runStarted = performance.now();
    const deadline = Date.now() + RUN_SECONDS * 1000;
    const poller = pollNodes(http, deadline);
    await Promise.all([...Array.from({ length: CLIENTS }, (_, index) => users.run(index, deadline)), poller]);
    const runSeconds = (performance.now() - runStarted) / 1000;
    stats.measuring = false;
    timeline.stop();
    const loadAfter = loadavg()[0] ?? 0;
    const clientCpu = process.cpuUsage(cpuBefore);
    const workerdAfterMs = broker.workerdPid ? processCpuMs(broker.workerdPid) : null;

    // Agents keep beating while the last placements are confirmed, then stop.
    await sleep(SETTLE_MS);
    const checks = await finalChecks(http, users.starts, AGENTS, await poller);
    agents.stop();
    await agents.finished();

    const summary = summarize({
      options,
      rateLimits: broker.rateLimits,
      setupSeconds,
      runSeconds,
      clientCpu,
      workerdBeforeMs,
      workerdAfterMs,
      loadBefore,
      loadAfter,
      stats,
      timeline: timeline.seconds,
      starts: users.starts,
      nodes: [...agents.nodes.values()],
      checks,
    });
    const section = reportSection(summary);
    console.log(`${renderSection(section)}\n`);
    const result = reportResult(summary, section);
    console.log(JSON.stringify(result));
    if (options.json) writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
    const failed = section.checks.filter((check) => !check.pass);
    if (failed.length > 0) console.error(`load: ${failed.length} check(s) failed: ${failed.map((check) => check.name).join("; ")}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    agents.stop();
    http.destroy();
    await broker.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
