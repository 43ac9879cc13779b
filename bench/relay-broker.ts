/**
 * The broker for the relay bench: bench/broker.ts's setup (bundled Worker, one workerd through
 * Miniflare's API, in-memory D1 and Durable Objects, migrations applied) plus a SIGNING_KEY,
 * which relay tickets and user sign-in need, and the pid of the workerd process so the bench
 * can read its memory and CPU time. Loopback only.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { exportJWK, generateKeyPair } from "jose";
import { signHeartbeatToken } from "../agent/token.ts";
import type { HeartbeatBody } from "../src/protocol.ts";
import { childProcesses } from "./relay-proc.ts";

export interface RelayBenchBroker {
  url: string;
  /** The same Worker on a socket of its own, without Miniflare's entry worker in front. */
  directUrl: string;
  adminToken: string;
  /** The workerd process serving the Worker (a child of this process). */
  workerdPid: number;
  dispose(): Promise<void>;
}

const root = join(import.meta.dirname, "..");
const PROFILE_ID = "relay-bench";
const HEARTBEAT_EVERY_MS = 5_000;
/**
 * Session starts are rate-limited per user (src/rate-limit.ts: 60 a minute), and every relay
 * connection needs one; the bench spreads its ~1,000 tickets over this many users, each kept
 * under `TICKETS_PER_USER_PER_MINUTE` in any 60 s.
 */
const USERS = 24;
const TICKETS_PER_USER_PER_MINUTE = 50;

/** Bundles the Worker exactly as `wrangler deploy` would (same as bench/broker.ts). */
function bundleWorker(): string {
  const outdir = join(root, ".tmp", "bundle-relay");
  execFileSync(join(root, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], { cwd: root, stdio: "ignore" });
  return join(outdir, "index.js");
}

function migrationStatements(): string[] {
  const dir = join(root, "migrations");
  return readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .flatMap((name) => readFileSync(join(dir, name), "utf8").split("--> statement-breakpoint"))
    .map((statement) => statement.replace(/^\s*--.*$/gm, "").trim())
    .filter((statement) => statement.length > 0);
}

export async function startRelayBroker(): Promise<RelayBenchBroker> {
  const adminToken = `bench-admin-${crypto.randomUUID()}`;
  const signingKey = `bench-signing-${crypto.randomUUID()}-${crypto.randomUUID()}`;
  const before = new Set(childProcesses(process.pid, "workerd"));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      scriptPath: bundleWorker(),
      compatibilityDate: "2026-11-01",
      compatibilityFlags: ["nodejs_compat"],
      d1Databases: { DB: "bench-db" },
      durableObjects: { POOL: { className: "PoolObject", useSQLite: true } },
      bindings: { ADMIN_TOKEN: adminToken, SIGNING_KEY: signingKey, DEFAULT_INTERVAL_MS: "10000" },
      host: "127.0.0.1",
      port: 0,
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    }),
  );
  try {
    const url = (await mf.ready).toString().replace(/\/$/, "");
    const directUrl = (await mf.unsafeGetDirectURL("")).toString().replace(/\/$/, "");
    const db = await mf.getD1Database("DB");
    for (const statement of migrationStatements()) await db.prepare(statement).run();
    const spawned = childProcesses(process.pid, "workerd").filter((pid) => !before.has(pid));
    if (spawned.length !== 1) throw new Error(`expected one new workerd child process, found ${spawned.length}`);
    return { url, directUrl, adminToken, workerdPid: spawned[0] as number, dispose: () => mf.dispose() };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}

export interface Broker {
  broker: RelayBenchBroker;
  /**
   * A fresh relay URL with its single-use ticket (one `POST /v1/sessions` to `base`; the relay
   * URL in the answer is on the same socket).
   */
  ticketUrl(base: string): Promise<string>;
  stopHeartbeats(): void;
}

async function call(base: string, path: string, init: { method?: string; token?: string; body?: unknown }): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? "POST",
    headers: { "Content-Type": "application/json", ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? "POST"} ${path}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  return text.length > 0 ? JSON.parse(text) : null;
}

function heartbeatBody(): string {
  const body: HeartbeatBody = {
    loadAvg: [0.1, 0.1, 0.1],
    cpuCount: 2,
    cpuMhz: 2400,
    memTotalBytes: 8_000_000_000,
    memAvailableBytes: 6_000_000_000,
    sessions: [],
    users: [],
    staticData: { site: "bench" },
    metrics: {},
  };
  return JSON.stringify(body);
}

/**
 * The broker with users, a relay profile, and one node whose origin is `originUrl`, enrolled
 * and kept `up` by a signed heartbeat every few seconds until `stopHeartbeats`.
 */
export async function prepareBroker(originUrl: string): Promise<Broker> {
  const broker = await startRelayBroker();
  try {
    const base = broker.url;
    const admin = broker.adminToken;
    const users: Array<{ token: string; issued: number[] }> = [];
    for (let index = 0; index < USERS; index++) {
      const login = `relay-bench-${index}`;
      const password = `pw-${crypto.randomUUID()}`;
      await call(base, "/v1/admin/users", { token: admin, body: { login, password } });
      const { token } = (await call(base, "/v1/auth/login", { body: { login, password } })) as { token: string };
      users.push({ token, issued: [] });
    }
    await call(base, "/v1/admin/profiles", { token: admin, body: { id: PROFILE_ID, name: "Relay bench", pool: "default", mode: "relay" } });
    const { token: enrolToken } = (await call(base, "/v1/admin/pools/default/enrolment-tokens", { token: admin, body: { ttlSeconds: 600 } })) as { token: string };
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const jwk = await exportJWK(publicKey);
    const { serverId } = (await call(base, "/v1/agent/enrol", {
      body: { token: enrolToken, publicKey: { kty: "OKP", crv: "Ed25519", x: jwk.x }, hostname: "relay-bench-node", originUrl },
    })) as { serverId: string };
    const identity = { serverId, pool: "default", privateKey };
    const body = heartbeatBody();
    let seq = 0;
    const beat = async () => {
      const token = await signHeartbeatToken(identity, body, ++seq, Date.now());
      const response = await fetch(`${base}/v1/agent/heartbeat`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`heartbeat: HTTP ${response.status}`);
    };
    await beat();
    const timer = setInterval(() => beat().catch((error) => console.error(`relay bench: ${error instanceof Error ? error.message : error}`)), HEARTBEAT_EVERY_MS);
    const ticketUrl = async (socket: string) => {
      const now = Date.now();
      for (const user of users) user.issued = user.issued.filter((at) => at > now - 60_000);
      const user = users.reduce((least, candidate) => (candidate.issued.length < least.issued.length ? candidate : least));
      if (user.issued.length >= TICKETS_PER_USER_PER_MINUTE) throw new Error(`more than ${USERS * TICKETS_PER_USER_PER_MINUTE} relay tickets a minute: raise USERS`);
      user.issued.push(now);
      const answer = (await call(socket, "/v1/sessions", { token: user.token, body: { profileId: PROFILE_ID } })) as { relay?: { url: string; ticket: string } };
      if (!answer.relay) throw new Error("POST /v1/sessions answered without a relay");
      return `${answer.relay.url}?ticket=${encodeURIComponent(answer.relay.ticket)}`;
    };
    return { broker, ticketUrl, stopHeartbeats: () => clearInterval(timer) };
  } catch (error) {
    await broker.dispose();
    throw error;
  }
}
