/**
 * Simulated users. They behave like people, not like a benchmark loop: a visit is sign in, list
 * profiles, list sessions, start a session, work (looking at the session list once), log off,
 * pause. A session appears in its node's beats once its user "connects" after a start, and goes
 * once the user logs off, as on a real node, so reservations are confirmed by heartbeats.
 */
import { inParallel, sleep } from "./async.ts";
import type { SimNode } from "./agents.ts";
import type { BrokerHttp } from "./http.ts";
import { CONNECT_DELAY_MS, PASSWORD, PAUSE_MS, PROFILE_ID, WORK_MS } from "./options.ts";
import type { RouteStats } from "./stats.ts";

/** A session start a client was told about. */
export interface Start {
  user: string;
  serverId: string;
  sessionId: string;
  resumed: boolean;
  /** The user's session list showed it on the server it was placed on. */
  seen: boolean;
  loggedOff: boolean;
}

interface SessionListing {
  sessions: Array<{ id: string; serverId: string; user: string }>;
}

const clientAddress = (index: number) => `10.2.${Math.floor(index / 250)}.${(index % 250) + 1}`;

export class SimUsers {
  readonly starts: Start[] = [];
  readonly #http: BrokerHttp;
  readonly #stats: RouteStats;
  readonly #nodes: ReadonlyMap<string, SimNode>;
  readonly #thinkScale: number;

  constructor(http: BrokerHttp, stats: RouteStats, nodes: ReadonlyMap<string, SimNode>, thinkScale: number) {
    this.#http = http;
    this.#stats = stats;
    this.#nodes = nodes;
    this.#thinkScale = thinkScale;
  }

  async create(count: number): Promise<void> {
    await inParallel(count, 4, async (index) => {
      await this.#http.admin("POST", "/v1/admin/users", { login: `load-user-${index}`, password: PASSWORD, groups: ["load"] });
    });
  }

  /** One user's visits until `deadline`; never starts a request after it. */
  async run(index: number, deadline: number): Promise<void> {
    const http = this.#http;
    const stats = this.#stats;
    const between = ([low, high]: readonly [number, number]) => Math.round((low + Math.random() * (high - low)) * this.#thinkScale);
    const login = `load-user-${index}`;
    const address = { "CF-Connecting-IP": clientAddress(index) };
    const open = () => Date.now() < deadline;
    /** Think time, cut short at the deadline so the run ends on time. */
    const think = (ms: number) => sleep(Math.max(0, Math.min(ms, deadline - Date.now())));
    // Users arrive spread over one average visit, not all at once.
    await think(Math.random() * (WORK_MS[0] + WORK_MS[1] + PAUSE_MS[0] + PAUSE_MS[1]) * 0.5 * this.#thinkScale);
    while (open()) {
      const signIn = await http.send("POST", "/v1/auth/login", address, JSON.stringify({ login, password: PASSWORD }));
      if (!stats.record("POST /v1/auth/login", signIn, 200)) {
        await think(between(PAUSE_MS));
        continue;
      }
      const auth = { ...address, Authorization: `Bearer ${(JSON.parse(signIn.text) as { token: string }).token}` };
      if (!open()) break;
      const profiles = await http.send("GET", "/v1/profiles", auth);
      stats.record("GET /v1/profiles", profiles, 200);
      if (!open()) break;
      stats.record("GET /v1/sessions", await http.send("GET", "/v1/sessions", auth), 200);
      if (!open()) break;
      const started = await http.send("POST", "/v1/sessions", auth, JSON.stringify({ profileId: PROFILE_ID }));
      if (!stats.record("POST /v1/sessions", started, 201)) {
        await think(between(PAUSE_MS));
        continue;
      }
      const answer = JSON.parse(started.text) as { serverId: string; sessionId: string; resumed: boolean };
      const start: Start = { user: login, serverId: answer.serverId, sessionId: answer.sessionId, resumed: answer.resumed, seen: false, loggedOff: false };
      this.starts.push(start);
      const node = this.#nodes.get(answer.serverId);
      // The client connects; from then on its node reports the session.
      await sleep(between(CONNECT_DELAY_MS));
      node?.sessions.set(answer.sessionId, { id: answer.sessionId, user: login, state: "running", startedAt: Date.now() });
      const work = between(WORK_MS);
      await think(work / 2);
      if (!open()) break;
      const listing = await http.send("GET", "/v1/sessions", auth);
      if (stats.record("GET /v1/sessions", listing, 200)) {
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
}
