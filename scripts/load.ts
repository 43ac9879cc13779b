/**
 * `npm run load [-- --seconds N --agents N --clients N --think-scale X --json FILE]`: the local
 * broker in one workerd (scripts/load-broker.ts) under 200 agents heartbeating every second and
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
import { Agent, request as httpRequest } from "node:http";
import { parseArgs } from "node:util";
import { exportJWK, generateKeyPair } from "jose";
import { jitteredIntervalMs } from "../agent/backoff.ts";
import { type NodeIdentity, SeqCounter, signHeartbeatToken } from "../agent/token.ts";
import { percentile, renderSection, round, type BenchSection } from "../bench/lib.ts";
import type { HeartbeatBody, NodeSession } from "../src/protocol.ts";
import { type BenchBroker, startBenchBroker } from "../bench/broker.ts";
import { cpuSeconds } from "../bench/proc.ts";

/** CPU time a process has used so far, in ms; null once it is gone. */
function processCpuMs(pid: number): number | null {
  const seconds = cpuSeconds(pid);
  return Number.isNaN(seconds) ? null : seconds * 1000;
}

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    agents: { type: "string", default: "200" },
    clients: { type: "string", default: "200" },
    "think-scale": { type: "string", default: "1" },
    json: { type: "string" },
  },
});

function boundedInt(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name} must be a whole number from ${min} to ${max}`);
    process.exit(2);
  }
  return value;
}

const RUN_SECONDS = boundedInt("seconds", args.seconds, 5, 600);
const AGENTS = boundedInt("agents", args.agents, 1, 1000);
const CLIENTS = boundedInt("clients", args.clients, 1, 1000);
const THINK_SCALE = Number(args["think-scale"]);
if (!(THINK_SCALE >= 0.1 && THINK_SCALE <= 10)) {
  console.error("--think-scale must be a number from 0.1 to 10");
  process.exit(2);
}

/** The pool's heartbeat interval: a node is down after 3 missed beats (3 s). */
const INTERVAL_MS = 1000;
const POOL = "default";
const PROFILE_ID = "load-desktop";
const PASSWORD = "load-test-password-0123";
const MAX_SESSIONS_PER_NODE = 20;
/** Keep-alive sockets shared by every simulated agent and user (a modest pool). */
const MAX_SOCKETS = 64;
/** Think times of a visit, ms (scaled by --think-scale). */
const CONNECT_DELAY_MS = [200, 600] as const;
const WORK_MS = [8_000, 16_000] as const;
const PAUSE_MS = [1_000, 4_000] as const;
/** How long after the run the agents keep beating before the final checks (pending sessions confirm). */
const SETTLE_MS = 3 * INTERVAL_MS;
/** How often the node list is polled during the run. */
const POLL_EVERY_MS = 2_000;
/** Hard stop: setup + run + checks never take longer than this. */
const HARD_LIMIT_MS = (RUN_SECONDS + 240) * 1000;

const hardStop = setTimeout(() => {
  console.error(`load: hard time limit of ${HARD_LIMIT_MS / 1000} s reached; giving up`);
  process.exit(3);
}, HARD_LIMIT_MS);
hardStop.unref();

// ---------------------------------------------------------------------------------------------
// HTTP: node:http with one keep-alive pool (cheaper per request than fetch on this machine)
// ---------------------------------------------------------------------------------------------

const agent = new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
let brokerUrl: URL;

interface Answer {
  status: number;
  text: string;
  ms: number;
}

function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        agent,
        host: brokerUrl.hostname,
        port: brokerUrl.port,
        method,
        path,
        headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }));
        res.on("error", (error) => resolve({ status: 0, text: String(error), ms: performance.now() - started }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out after 30 s")));
    req.on("error", (error) => resolve({ status: 0, text: String(error), ms: performance.now() - started }));
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// Statistics per route, during the timed run only
// ---------------------------------------------------------------------------------------------

const ROUTES = ["POST /v1/agent/heartbeat", "POST /v1/auth/login", "GET /v1/profiles", "GET /v1/sessions", "POST /v1/sessions"] as const;
type Route = (typeof ROUTES)[number];

const latencies = new Map<Route, number[]>(ROUTES.map((route) => [route, []]));
const errorCounts = new Map<Route, number>(ROUTES.map((route) => [route, 0]));
const errorSamples: string[] = [];
let measuring = false;

function record(route: Route, answer: Answer, expected: number): boolean {
  const ok = answer.status === expected;
  if (measuring) {
    if (current) {
      current.requests += 1;
      current.maxMs = Math.max(current.maxMs, answer.ms);
    }
    latencies.get(route)?.push(answer.ms);
    if (!ok) errorCounts.set(route, (errorCounts.get(route) ?? 0) + 1);
  }
  if (!ok && errorSamples.length < 20) errorSamples.push(`${route}: ${answer.status} ${answer.text.slice(0, 200)}`);
  return ok;
}

/**
 * Per second of the run: requests completed, the slowest, and the CPU workerd and this client
 * used (percent of one core). Stalls show up here as a slow second across every route; on a
 * machine shared with other work they usually line up with someone else's CPU burst.
 */
interface Second {
  second: number;
  requests: number;
  maxMs: number;
  workerdCpu: number | null;
  clientCpu: number;
}
const seconds: Second[] = [];
let current: Second | null = null;

function startTimeline(workerdPid: number | null): () => void {
  let lastWorkerd = workerdPid ? processCpuMs(workerdPid) : null;
  let lastClient = process.cpuUsage();
  let lastAt = performance.now();
  current = { second: 0, requests: 0, maxMs: 0, workerdCpu: null, clientCpu: 0 };
  const timer = setInterval(() => {
    if (!current) return;
    const now = performance.now();
    const elapsed = now - lastAt;
    const workerd = workerdPid ? processCpuMs(workerdPid) : null;
    const client = process.cpuUsage();
    current.workerdCpu = workerd !== null && lastWorkerd !== null ? round(((workerd - lastWorkerd) / elapsed) * 100, 0) : null;
    current.clientCpu = round(((client.user - lastClient.user + client.system - lastClient.system) / 1000 / elapsed) * 100, 0);
    current.maxMs = round(current.maxMs, 0);
    seconds.push(current);
    current = { second: current.second + 1, requests: 0, maxMs: 0, workerdCpu: null, clientCpu: 0 };
    lastWorkerd = workerd;
    lastClient = client;
    lastAt = now;
  }, 1000);
  return () => {
    clearInterval(timer);
    current = null;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const between = ([low, high]: readonly [number, number]) => Math.round((low + Math.random() * (high - low)) * THINK_SCALE);

// ---------------------------------------------------------------------------------------------
// Setup through the admin API
// ---------------------------------------------------------------------------------------------

let adminHeaders: Record<string, string>;

async function adminCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const answer = await send(method, path, adminHeaders, body === undefined ? undefined : JSON.stringify(body));
  if (answer.status < 200 || answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
  return (answer.text ? JSON.parse(answer.text) : undefined) as T;
}

/** Runs `task` for 0..count-1 with at most `width` at a time. */
async function inParallel(count: number, width: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

const agentAddress = (index: number) => `10.1.${Math.floor(index / 250)}.${(index % 250) + 1}`;
const clientAddress = (index: number) => `10.2.${Math.floor(index / 250)}.${(index % 250) + 1}`;

// ---------------------------------------------------------------------------------------------
// Simulated nodes
// ---------------------------------------------------------------------------------------------

interface SimNode {
  index: number;
  identity: NodeIdentity;
  seq: SeqCounter;
  sessions: Map<string, NodeSession>;
  beats: number;
  refused: number;
  /** When the last accepted beat completed, and the longest gap between two during the run (ms). */
  lastAcceptedAt: number;
  maxGapMs: number;
}

const nodes = new Map<string, SimNode>();
const agentLoops: Promise<void>[] = [];
let agentsStop = false;

function heartbeatText(node: SimNode): string {
  const sessions = [...node.sessions.values()];
  const body: HeartbeatBody = {
    loadAvg: [round(0.2 + sessions.length * 0.6 + (node.index % 5) / 10), 0.5, 0.4],
    cpuCount: 8,
    cpuMhz: 2400,
    memTotalBytes: 32_000_000_000,
    memAvailableBytes: 24_000_000_000 - sessions.length * 1_500_000_000,
    sessions,
    users: [...new Set(sessions.map((session) => session.user))],
    staticData: { site: "load", maxSessions: MAX_SESSIONS_PER_NODE },
    metrics: { collectMs: 2 },
  };
  return JSON.stringify(body);
}

async function beatOnce(node: SimNode): Promise<boolean> {
  const text = heartbeatText(node);
  const nowMs = Date.now();
  const token = await signHeartbeatToken(node.identity, text, node.seq.next(nowMs), nowMs);
  const answer = await send("POST", "/v1/agent/heartbeat", { Authorization: `Bearer ${token}` }, text);
  const ok = record("POST /v1/agent/heartbeat", answer, 200);
  if (ok) {
    node.beats += 1;
    node.seq.accepted();
    const now = performance.now();
    if (measuring && node.lastAcceptedAt > 0) node.maxGapMs = Math.max(node.maxGapMs, now - node.lastAcceptedAt);
    node.lastAcceptedAt = now;
  } else node.refused += 1;
  return ok;
}

async function enrolNodes(): Promise<void> {
  await inParallel(AGENTS, 8, async (index) => {
    const { token } = await adminCall<{ token: string }>("POST", `/v1/admin/pools/${POOL}/enrolment-tokens`, { ttlSeconds: 600 });
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const jwk = await exportJWK(publicKey);
    const hostname = `load-node-${String(index).padStart(3, "0")}`;
    const answer = await send(
      "POST",
      "/v1/agent/enrol",
      { "CF-Connecting-IP": agentAddress(index) },
      JSON.stringify({ token, publicKey: { kty: "OKP", crv: "Ed25519", x: jwk.x }, hostname, originUrl: `http://127.0.0.1:9/${hostname}` }),
    );
    if (answer.status !== 201) throw new Error(`enrol ${hostname}: ${answer.status} ${answer.text}`);
    const { serverId } = JSON.parse(answer.text) as { serverId: string };
    const node: SimNode = { index, identity: { serverId, pool: POOL, privateKey }, seq: new SeqCounter(), sessions: new Map(), beats: 0, refused: 0, lastAcceptedAt: 0, maxGapMs: 0 };
    nodes.set(serverId, node);
    if (!(await beatOnce(node))) throw new Error(`first beat of ${hostname} refused`);
    // From now on it beats like a running agent, through setup, run and checks.
    agentLoops.push(runNode(node, () => agentsStop));
  });
}

/** One agent's loop: chained timers, one beat in flight, ±10 % jitter (agent/loop.ts). */
async function runNode(node: SimNode, until: () => boolean): Promise<void> {
  await sleep(Math.random() * INTERVAL_MS);
  while (!until()) {
    await beatOnce(node);
    await sleep(jitteredIntervalMs(INTERVAL_MS, Math.random));
  }
}

// ---------------------------------------------------------------------------------------------
// Simulated users
// ---------------------------------------------------------------------------------------------

interface Start {
  user: string;
  serverId: string;
  sessionId: string;
  resumed: boolean;
  /** The user's session list showed it on the server it was placed on. */
  seen: boolean;
  loggedOff: boolean;
}

const starts: Start[] = [];

async function createUsers(): Promise<void> {
  await inParallel(CLIENTS, 4, async (index) => {
    await adminCall("POST", "/v1/admin/users", { login: `load-user-${index}`, password: PASSWORD, groups: ["load"] });
  });
}

interface SessionListing {
  sessions: Array<{ id: string; serverId: string; user: string }>;
}

/** One user's visits until `deadline`; never starts a request after it. */
async function runClient(index: number, deadline: number): Promise<void> {
  const login = `load-user-${index}`;
  const address = { "CF-Connecting-IP": clientAddress(index) };
  const open = () => Date.now() < deadline;
  /** Think time, cut short at the deadline so the run ends on time. */
  const think = (ms: number) => sleep(Math.max(0, Math.min(ms, deadline - Date.now())));
  // Users arrive spread over one average visit, not all at once.
  await think(Math.random() * (WORK_MS[0] + WORK_MS[1] + PAUSE_MS[0] + PAUSE_MS[1]) * 0.5 * THINK_SCALE);
  while (open()) {
    const signIn = await send("POST", "/v1/auth/login", address, JSON.stringify({ login, password: PASSWORD }));
    if (!record("POST /v1/auth/login", signIn, 200)) {
      await think(between(PAUSE_MS));
      continue;
    }
    const auth = { ...address, Authorization: `Bearer ${(JSON.parse(signIn.text) as { token: string }).token}` };
    if (!open()) break;
    const profiles = await send("GET", "/v1/profiles", auth);
    record("GET /v1/profiles", profiles, 200);
    if (!open()) break;
    record("GET /v1/sessions", await send("GET", "/v1/sessions", auth), 200);
    if (!open()) break;
    const started = await send("POST", "/v1/sessions", auth, JSON.stringify({ profileId: PROFILE_ID }));
    if (!record("POST /v1/sessions", started, 201)) {
      await think(between(PAUSE_MS));
      continue;
    }
    const answer = JSON.parse(started.text) as { serverId: string; sessionId: string; resumed: boolean };
    const start: Start = { user: login, serverId: answer.serverId, sessionId: answer.sessionId, resumed: answer.resumed, seen: false, loggedOff: false };
    starts.push(start);
    const node = nodes.get(answer.serverId);
    // The client connects; from then on its node reports the session.
    await sleep(between(CONNECT_DELAY_MS));
    node?.sessions.set(answer.sessionId, { id: answer.sessionId, user: login, state: "running", startedAt: Date.now() });
    const work = between(WORK_MS);
    await think(work / 2);
    if (!open()) break;
    const listing = await send("GET", "/v1/sessions", auth);
    if (record("GET /v1/sessions", listing, 200)) {
      start.seen = (JSON.parse(listing.text) as SessionListing).sessions.some((session) => session.id === start.sessionId && session.serverId === start.serverId);
    }
    await think(work / 2);
    if (!open()) break;
    // Log off: the node stops reporting the session.
    node?.sessions.delete(answer.sessionId);
    start.loggedOff = true;
    await think(between(PAUSE_MS));
  }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

interface ServerState {
  serverId: string;
  hostname: string;
  status: string;
  pendingSessions: number;
  sessions: Array<{ id: string; user: string }>;
}

interface Decision {
  action: string;
  user: string;
  ok: boolean;
  serverId: string | null;
  resumeSessionId: string | null;
}

interface Checks {
  lostSessions: string[];
  pendingReservations: number;
  unmatchedDecisions: number;
  decisionsChecked: number;
  notUpAtEnd: string[];
  downDuringRun: number;
  polls: number;
}

async function listServers(): Promise<ServerState[]> {
  return (await adminCall<{ servers: ServerState[] }>("GET", `/v1/admin/pools/${POOL}/servers`)).servers;
}

async function finalChecks(downDuringRun: number, polls: number): Promise<Checks> {
  const servers = await listServers();
  const byId = new Map(servers.map((server) => [server.serverId, server]));
  const lostSessions: string[] = [];
  for (const start of starts) {
    const server = byId.get(start.serverId);
    const present = server?.sessions.some((session) => session.id === start.sessionId && session.user === start.user) ?? false;
    // Logged off: it must have been seen during the run. Still active: it must be there now.
    const accounted = start.loggedOff ? start.seen : present || start.seen;
    if (!accounted) lostSessions.push(`${start.user} ${start.sessionId} on ${start.serverId}`);
  }
  const pendingReservations = servers.reduce((sum, server) => sum + server.pendingSessions, 0);
  // The decision log keeps the latest 200: each placed start in it must be one a client got.
  const decisions = (await adminCall<{ decisions: Decision[] }>("GET", `/v1/admin/pools/${POOL}/decisions?limit=200`)).decisions;
  const told = new Map<string, number>();
  for (const start of starts) told.set(`${start.user} ${start.serverId}`, (told.get(`${start.user} ${start.serverId}`) ?? 0) + 1);
  let unmatchedDecisions = 0;
  let decisionsChecked = 0;
  for (const decision of decisions) {
    if (decision.action !== "session/start" || !decision.ok) continue;
    decisionsChecked += 1;
    const key = `${decision.user} ${decision.serverId}`;
    const left = told.get(key) ?? 0;
    if (left === 0) unmatchedDecisions += 1;
    else told.set(key, left - 1);
  }
  const notUpAtEnd = servers.filter((server) => server.status !== "up").map((server) => server.hostname);
  if (servers.length !== AGENTS) notUpAtEnd.push(`${AGENTS - servers.length} node(s) missing`);
  return { lostSessions, pendingReservations, unmatchedDecisions, decisionsChecked, notUpAtEnd, downDuringRun, polls };
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const setupStarted = performance.now();
  process.stderr.write(`load: starting the broker (one workerd) …\n`);
  const broker: BenchBroker = await startBenchBroker({ rateLimits: true, defaultIntervalMs: INTERVAL_MS });
  brokerUrl = new URL(broker.url);
  if (brokerUrl.hostname !== "127.0.0.1") throw new Error(`refusing a non-loopback broker ${broker.url}`);
  adminHeaders = { Authorization: `Bearer ${broker.adminToken}` };
  try {
    await adminCall("PATCH", `/v1/admin/pools/${POOL}`, { intervalMs: INTERVAL_MS });
    await adminCall("POST", "/v1/admin/profiles", { id: PROFILE_ID, name: "Load desktop", pool: POOL, mode: "relay", command: "XFCE", acl: {} });
    process.stderr.write(`load: creating ${CLIENTS} users, enrolling ${AGENTS} agents …\n`);
    await createUsers();
    await enrolNodes();
    const setupSeconds = (performance.now() - setupStarted) / 1000;

    process.stderr.write(`load: running for ${RUN_SECONDS} s (${AGENTS} agents, ${CLIENTS} users) …\n`);
    const loadBefore = loadavg()[0] ?? 0;
    measuring = true;
    const stopTimeline = startTimeline(broker.workerdPid);
    const cpuBefore = process.cpuUsage();
    const workerdBefore = broker.workerdPid ? processCpuMs(broker.workerdPid) : null;
    const runStarted = performance.now();
    const deadline = Date.now() + RUN_SECONDS * 1000;
    let downDuringRun = 0;
    let polls = 0;
    const poller = (async () => {
      while (Date.now() + POLL_EVERY_MS < deadline) {
        await sleep(POLL_EVERY_MS);
        const servers = await listServers();
        polls += 1;
        downDuringRun += servers.filter((server) => server.status !== "up").length;
      }
    })();
    await Promise.all([...Array.from({ length: CLIENTS }, (_, index) => runClient(index, deadline)), poller]);
    const runSeconds = (performance.now() - runStarted) / 1000;
    measuring = false;
    stopTimeline();
    const loadAfter = loadavg()[0] ?? 0;
    const clientCpu = process.cpuUsage(cpuBefore);
    const workerdAfter = broker.workerdPid ? processCpuMs(broker.workerdPid) : null;

    // Agents keep beating while the last placements are confirmed, then stop.
    await sleep(SETTLE_MS);
    const checks = await finalChecks(downDuringRun, polls);
    agentsStop = true;
    await Promise.all(agentLoops);

    const rows = ROUTES.map((route) => {
      const sample = latencies.get(route) ?? [];
      return { route, requests: sample.length, perSecond: round(sample.length / runSeconds, 1), p50: round(percentile(sample, 50)), p99: round(percentile(sample, 99)), errors: errorCounts.get(route) ?? 0 };
    });
    const total = rows.reduce((sum, row) => sum + row.requests, 0);
    const errors = rows.reduce((sum, row) => sum + row.errors, 0);
    const placed = starts.filter((start) => !start.resumed).length;
    const gaps = [...nodes.values()].map((node) => node.maxGapMs);
    const maxGapMs = round(Math.max(0, ...gaps), 0);
    const nodesWithDownGap = gaps.filter((gap) => gap >= 3 * INTERVAL_MS).length;
    const clientCpuPercent = round(((clientCpu.user + clientCpu.system) / 1000 / (runSeconds * 1000)) * 100, 0);
    const workerdCpuPercent = workerdBefore !== null && workerdAfter !== null ? round(((workerdAfter - workerdBefore) / (runSeconds * 1000)) * 100, 0) : null;

    const section: BenchSection = {
      title: "Load: agents and users together",
      setup:
        `broker in one workerd (Miniflare API, rate-limit bindings from wrangler.toml), ${AGENTS} agents beating every ${INTERVAL_MS} ms (real signed beats), ` +
        `${CLIENTS} users (sign in, profiles, sessions, start, work ${WORK_MS[0] / 1000}-${WORK_MS[1] / 1000} s ×${THINK_SCALE}, log off), ${round(runSeconds, 1)} s, ` +
        `client on the same 2-core machine, loopback, ${MAX_SOCKETS} keep-alive sockets; CPU: workerd ${workerdCpuPercent ?? "?"} %, client ${clientCpuPercent} % of one core; ` +
        `machine load average ${round(loadBefore, 1)} → ${round(loadAfter, 1)}`,
      columns: ["route", "requests", "req/s", "p50 ms", "p99 ms", "errors"],
      rows: [
        ...rows.map((row) => [row.route, row.requests, row.perSecond, row.p50, row.p99, row.errors]),
        ["all", total, round(total / runSeconds, 1), round(percentile(ROUTES.flatMap((route) => latencies.get(route) ?? []), 50)), round(percentile(ROUTES.flatMap((route) => latencies.get(route) ?? []), 99)), errors],
      ],
      checks: [
        { name: "zero errors", pass: errors === 0, detail: `${errors} errors${errorSamples.length > 0 ? `; first: ${errorSamples.slice(0, 3).join(" | ")}` : ""}` },
        { name: "every session placed is accounted for", pass: checks.lostSessions.length === 0, detail: `${starts.length} starts (${placed} new placements, ${starts.length - placed} resumes); ${checks.lostSessions.length} lost${checks.lostSessions.length > 0 ? `: ${checks.lostSessions.slice(0, 3).join("; ")}` : ""}` },
        { name: "no reservation left unconfirmed", pass: checks.pendingReservations === 0, detail: `${checks.pendingReservations} pending after ${SETTLE_MS} ms of settling` },
        { name: "every logged placement was answered to a client", pass: checks.unmatchedDecisions === 0, detail: `${checks.decisionsChecked} recent start decisions checked, ${checks.unmatchedDecisions} unmatched` },
        {
          name: "every live node is up",
          pass: checks.notUpAtEnd.length === 0 && checks.downDuringRun === 0,
          detail:
            `${AGENTS - checks.notUpAtEnd.length}/${AGENTS} up at the end; ${checks.downDuringRun} not-up sightings in ${checks.polls} polls during the run; ` +
            `longest gap between a node's accepted beats ${maxGapMs} ms (${nodesWithDownGap} node(s) ≥ ${3 * INTERVAL_MS} ms)`,
        },
      ],
    };
    console.log(`${renderSection(section)}\n`);
    const result = {
      when: new Date().toISOString(),
      parameters: { seconds: RUN_SECONDS, agents: AGENTS, clients: CLIENTS, thinkScale: THINK_SCALE, intervalMs: INTERVAL_MS, maxSockets: MAX_SOCKETS, rateLimits: broker.rateLimits },
      setupSeconds: round(setupSeconds, 1),
      runSeconds: round(runSeconds, 2),
      routes: rows,
      total: { requests: total, perSecond: round(total / runSeconds, 1), errors },
      cpu: { workerdPercentOfOneCore: workerdCpuPercent, clientPercentOfOneCore: clientCpuPercent },
      machineLoadAverage: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
      heartbeatGaps: { maxMs: maxGapMs, nodesAtOrAboveDownThreshold: nodesWithDownGap },
      timeline: seconds,
      sessions: { starts: starts.length, placed, resumed: starts.length - placed, seenDuringRun: starts.filter((start) => start.seen).length, lost: checks.lostSessions },
      checks: section.checks,
      errorSamples,
    };
    console.log(JSON.stringify(result));
    if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
    const failed = section.checks.filter((check) => !check.pass);
    if (failed.length > 0) console.error(`load: ${failed.length} check(s) failed: ${failed.map((check) => check.name).join("; ")}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    agentsStop = true;
    agent.destroy();
    await broker.dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
