/**
 * Simulated nodes. Each enrols with its own Ed25519 key and one-time token and sends beats signed
 * with the agent's own `signHeartbeatToken`, chained and jittered like `agent/loop.ts`. A beat
 * reports the sessions its node holds (the simulated users add and remove them).
 */
import { exportJWK, generateKeyPair } from "jose";
import { jitteredIntervalMs } from "../../agent/backoff.ts";
import { type NodeIdentity, SeqCounter, signHeartbeatToken } from "../../agent/token.ts";
import { round } from "../../bench/lib/sections.ts";
import type { HeartbeatBody, NodeSession } from "../../src/protocol.ts";
import { inParallel, sleep } from "./async.ts";
import type { BrokerHttp } from "./http.ts";
import { INTERVAL_MS, MAX_SESSIONS_PER_NODE, POOL } from "./options.ts";
import type { RouteStats } from "./stats.ts";

export interface SimNode {
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

const agentAddress = (index: number) => `10.1.${Math.floor(index / 250)}.${(index % 250) + 1}`;

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

/** The simulated nodes by server id, each beating in a loop of its own from enrolment until `stop`. */
export class SimAgents {
  readonly nodes = new Map<string, SimNode>();
  readonly #loops: Promise<void>[] = [];
  #stopped = false;
  readonly #http: BrokerHttp;
  readonly #stats: RouteStats;

  constructor(http: BrokerHttp, stats: RouteStats) {
    this.#http = http;
    this.#stats = stats;
  }

  async enrol(count: number): Promise<void> {
    await inParallel(count, 8, async (index) => {
      const { token } = await this.#http.admin<{ token: string }>("POST", `/v1/admin/pools/${POOL}/enrolment-tokens`, { ttlSeconds: 600, preApproved: true });
      const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
      const jwk = await exportJWK(publicKey);
      const hostname = `load-node-${String(index).padStart(3, "0")}`;
      const answer = await this.#http.send(
        "POST",
        "/v1/agent/enrol",
        { "CF-Connecting-IP": agentAddress(index) },
        JSON.stringify({ token, publicKey: { kty: "OKP", crv: "Ed25519", x: jwk.x }, hostname, originUrl: `http://127.0.0.1:9/${hostname}` }),
      );
      if (answer.status !== 201) throw new Error(`enrol ${hostname}: ${answer.status} ${answer.text}`);
      const { serverId } = JSON.parse(answer.text) as { serverId: string };
      const node: SimNode = { index, identity: { serverId, pool: POOL, privateKey }, seq: new SeqCounter(), sessions: new Map(), beats: 0, refused: 0, lastAcceptedAt: 0, maxGapMs: 0 };
      this.nodes.set(serverId, node);
      if (!(await this.#beatOnce(node))) throw new Error(`first beat of ${hostname} refused`);
      // From now on it beats like a running agent, through setup, run and checks.
      this.#loops.push(this.#runNode(node, () => this.#stopped));
    });
  }

  /** Ends every loop at its next turn; `finished` resolves once they all have ended. */
  stop(): void {
    this.#stopped = true;
  }

  async finished(): Promise<void> {
    await Promise.all(this.#loops);
  }

  async #beatOnce(node: SimNode): Promise<boolean> {
    const text = heartbeatText(node);
    const nowMs = Date.now();
    const token = await signHeartbeatToken(node.identity, text, node.seq.next(nowMs), nowMs);
    const answer = await this.#http.send("POST", "/v1/agent/heartbeat", { Authorization: `Bearer ${token}` }, text);
    const ok = this.#stats.record("POST /v1/agent/heartbeat", answer, 200);
    if (ok) {
      node.beats += 1;
      node.seq.accepted();
      const now = performance.now();
      if (this.#stats.measuring && node.lastAcceptedAt > 0) node.maxGapMs = Math.max(node.maxGapMs, now - node.lastAcceptedAt);
      node.lastAcceptedAt = now;
    } else node.refused += 1;
    return ok;
  }

  /** One agent's loop: chained timers, one beat in flight, ±10 % jitter (agent/loop.ts). */
  async #runNode(node: SimNode, until: () => boolean): Promise<void> {
    await sleep(Math.random() * INTERVAL_MS);
    while (!until()) {
      await this.#beatOnce(node);
      await sleep(jitteredIntervalMs(INTERVAL_MS, Math.random));
    }
  }
}
