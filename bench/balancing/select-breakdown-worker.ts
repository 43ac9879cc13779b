/**
 * A bench-only Worker (bundled and served by select.ts): where a select's time goes inside
 * the pool object. `BreakdownPool` is the real `PoolObject` (same SQLite tables, same private
 * helpers, reached through a cast) with one extra RPC method that times each part of
 * `selectNow` in batches on workerd's clock (1 ms ticks, so each batch runs ≥ 30 ms; see `time`).
 * Nodes are written straight into the store (no signatures): this measures the object, not
 * enrolment.
 */
import { runChain } from "../../src/balancer/chain.ts";
import { DEFAULT_POLICY } from "../../src/balancer/policy.ts";
import type { StepInput } from "../../src/balancer/step.ts";
import type { Env } from "../../src/env.ts";
import { pendingByServer, sessionsOfUser } from "../../src/pool/placement.ts";
import type { PlacementStore } from "../../src/pool/placement-store.ts";
import { PoolObject } from "../../src/pool/pool-object.ts";
import type { SelectRequest } from "../../src/pool/select-request.ts";
import { toServerView } from "../../src/pool/server-view.ts";
import type { NodeStore } from "../../src/pool/node-store.ts";
import type { PoolMeta } from "../../src/pool/pool-meta.ts";
import { benchHeartbeatBody } from "../lib/sim-node.ts";

/** The private members this bench reads (TypeScript-private only, so present at runtime). */
interface Internals {
  nodes: NodeStore;
  meta: PoolMeta;
  placement: PlacementStore;
  ctx: DurableObjectState;
  serverViews(): ReturnType<typeof toServerView>[];
  selector: { selectNow(request: SelectRequest): Promise<unknown> };
}

const POOL = "breakdown";
/** The bench's nodes have loopback origins. */
const RULES = { patterns: [], allowPrivate: true };

const liveBody = benchHeartbeatBody;

function request(login: string): SelectRequest {
  return { action: "session/start", user: { login, groups: [], isAdmin: false, isManager: false }, local: {}, data: {} };
}

/**
 * Mean ms per call of `run`: five windows of at least `minMs` each on workerd's clock (1 ms
 * ticks), and the median window, so a burst of other load on the machine moves one window, not
 * the result.
 */
async function time(run: () => unknown, minMs = 30): Promise<{ ms: number; calls: number }> {
  const means: number[] = [];
  let total = 0;
  for (let window = 0; window < 5; window++) {
    let calls = 0;
    const started = performance.now();
    while (performance.now() - started < minMs || calls < 2) {
      await run();
      calls++;
    }
    means.push((performance.now() - started) / calls);
    total += calls;
  }
  means.sort((a, b) => a - b);
  return { ms: means[2] as number, calls: total };
}

export class BreakdownPool extends PoolObject {
  private get internals(): Internals {
    return this as unknown as Internals;
  }

  async setup(nodes: number, reservations: number): Promise<void> {
    const { nodes: store, meta, placement } = this.internals;
    await this.configure({ pool: POOL, intervalMs: 300_000, originRules: RULES });
    meta.policyJson = "null";
    const nowMs = Date.now();
    for (let index = 0; index < nodes; index++) {
      const serverId = `srv_${index.toString(36).padStart(8, "0")}`;
      store.upsertNode({
        serverId,
        hostname: `sel-node-${String(index).padStart(5, "0")}`,
        publicKey: { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" },
        originUrl: `http://127.0.0.1:6080/${serverId}`,
        clientAddress: null,
        staticOverrides: {},
        approved: true,
        assertionSalt: "",
        draining: false,
        enrolledAt: nowMs,
      });
      store.saveBeat(serverId, 1, nowMs, liveBody(index));
    }
    for (let i = 0; i < reservations; i++) {
      placement.addReservation({
        id: `rsv_setup_${i}`,
        serverId: `srv_${(i % nodes).toString(36).padStart(8, "0")}`,
        user: `setup-user-${i}`,
        createdAt: nowMs,
        expiresAt: nowMs + 3_600_000,
        baselineSessions: 0,
      });
    }
  }

  /** Mean ms per call of each part of a select, in the order `selectNow` runs them. */
  async breakdown(): Promise<Array<{ part: string; ms: number; calls: number }>> {
    const { nodes: store, placement } = this.internals;
    const sql = this.internals.ctx.storage.sql;
    const parts: Array<{ part: string; ms: number; calls: number }> = [];
    // The pool object is edited in parallel with this bench: a part that no longer fits is reported, not fatal.
    const add = async (part: string, run: () => unknown) => {
      try {
        parts.push({ part, ...(await time(run)) });
      } catch (error) {
        parts.push({ part: `${part} (failed: ${error instanceof Error ? error.message : String(error)})`, ms: Number.NaN, calls: 0 });
      }
    };

    const nowMs = Date.now();
    const nodes = store.listNodes();
    const views = nodes.map((node) => toServerView(node, POOL, 0, RULES, false));
    const input: StepInput = {
      action: "session/start",
      user: { login: "bench-user", sessions: sessionsOfUser(views, "bench-user"), groups: [], isAdmin: false, isManager: false },
      local: {},
      servers: views,
      data: { roundRobinCounter: 0 },
    };
    const result = await runChain(DEFAULT_POLICY, input, { nowMs, random: Math.random });

    await add("SQL: SELECT * FROM nodes (rows only)", () => sql.exec("SELECT * FROM nodes ORDER BY hostname").toArray());
    await add("nodes.listNodes() (rows + JSON.parse of key, overrides, live beat)", () => store.listNodes());
    await add("placement.liveReservations() (DELETE expired + SELECT all)", () => placement.liveReservations(Date.now()));
    await add("  of which DELETE expired (none are; no index on expires_at)", () => sql.exec("DELETE FROM reservations WHERE expires_at <= ?", Date.now()));
    const pending = pendingByServer(placement.liveReservations(Date.now()));
    await add("toServerView × nodes (objects only: the cost if nodes and counts stayed in memory)", () => nodes.map((node) => toServerView(node, POOL, pending.get(node.serverId) ?? 0, RULES, false)));
    await add("serverViews() total", () => this.internals.serverViews());
    await add("sessionsOfUser (scan every session)", () => sessionsOfUser(views, "bench-user"));
    await add("runChain(DEFAULT_POLICY)", () => runChain(DEFAULT_POLICY, input, { nowMs, random: Math.random }));
    await add("JSON.stringify(trace) for the decision log", () => JSON.stringify(result.trace));
    let logged = 0;
    await add("placement.logDecision (INSERT + trim to 200)", () =>
      placement.logDecision({ at: nowMs, action: "session/start", user: `log-${logged++}`, ok: true, serverId: result.ok ? result.serverId : null, reason: "bench", resumeSessionId: null, trace: result.trace }),
    );
    // A candidate fix (not what the object does today), for comparison.
    const countPending = () => {
      const counts = new Map<string, number>();
      for (const row of sql.exec<{ server_id: string; n: number }>("SELECT server_id, COUNT(*) AS n FROM reservations WHERE expires_at > ? GROUP BY server_id", Date.now())) {
        counts.set(row.server_id, row.n);
      }
      return counts;
    };
    await add("candidate: pending counts by SQL GROUP BY server_id instead of SELECT *", countPending);
    let selects = 0;
    await add("selectNow() dry run (no log, no reservation)", () => this.internals.selector.selectNow({ ...request(`dry-${selects++}`), dryRun: true }));
    await add("selectNow() (logs and reserves)", () => this.internals.selector.selectNow(request(`sel-${selects++}`)));
    return parts;
  }
}

export default {
  async fetch(req: Request, env: Env & { BREAKDOWN: DurableObjectNamespace<BreakdownPool> }): Promise<Response> {
    const url = new URL(req.url);
    const stub = env.BREAKDOWN.get(env.BREAKDOWN.idFromName(url.searchParams.get("id") ?? POOL));
    try {
      if (url.pathname === "/setup") {
        await stub.setup(Number(url.searchParams.get("nodes")), Number(url.searchParams.get("reservations")));
        return Response.json({ ok: true });
      }
      if (url.pathname === "/breakdown") return Response.json(await stub.breakdown());
      return new Response("not found", { status: 404 });
    } catch (error) {
      return new Response(error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error), { status: 500 });
    }
  },
};
