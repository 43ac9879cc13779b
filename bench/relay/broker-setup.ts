/**
 * The broker for the relay bench (test/harness/broker.ts: a SIGNING_KEY, which relay tickets and
 * user sign-in need, and the Worker's own socket), with a relay profile, users and one node kept
 * up. Loopback only.
 */
import { type LocalBroker, startBroker } from "../../test/harness/broker.ts";
import { adminCall, signIn, startSession, withTicket } from "../../test/harness/client.ts";
import { beatOnce, enrolSimNode, quietHeartbeatBody } from "../lib/sim-node.ts";

const PROFILE_ID = "relay-bench";
const HEARTBEAT_EVERY_MS = 5_000;
/**
 * Session starts are rate-limited per user (src/core/rate-limit.ts: 60 a minute), and every
 * relay connection needs one; the bench spreads its ~1,000 tickets over this many users, each
 * kept under `TICKETS_PER_USER_PER_MINUTE` in any 60 s.
 */
const USERS = 24;
const TICKETS_PER_USER_PER_MINUTE = 50;

/** The relay bench's broker: the workerd serving it must be known (its CPU and memory are measured). */
export type RelayBenchBroker = LocalBroker & { workerdPid: number };

export interface RelayBench {
  broker: RelayBenchBroker;
  /** The enrolled node: its serverId and the assertion key a node gateway at its origin verifies with. */
  node: { serverId: string; assertionKey: string | undefined };
  /**
   * A fresh relay URL with its single-use ticket (one `POST /v1/sessions` to `base`; the relay
   * URL in the answer is on the same socket).
   */
  ticketUrl(base: string): Promise<string>;
  stopHeartbeats(): void;
}

async function startRelayBroker(workerdPath: string | undefined): Promise<RelayBenchBroker> {
  const broker = await startBroker({ rateLimits: false, ...(workerdPath ? { workerdPath } : {}) });
  if (broker.workerdPid === null) {
    await broker.stop();
    throw new Error("the relay bench needs the workerd pid");
  }
  return { ...broker, workerdPid: broker.workerdPid };
}

/**
 * The broker with users, a relay profile, and one node whose origin is `originUrl`, enrolled
 * and kept `up` by a signed heartbeat every few seconds until `stopHeartbeats`. `workerdPath`:
 * serve it with that workerd binary instead of Miniflare's own.
 */
export async function prepareBroker(originUrl: string, workerdPath?: string): Promise<RelayBench> {
  const broker = await startRelayBroker(workerdPath);
  try {
    const users: Array<{ token: string; issued: number[] }> = [];
    for (let index = 0; index < USERS; index++) {
      const login = `relay-bench-${index}`;
      const password = `pw-${crypto.randomUUID()}`;
      await adminCall(broker, "/v1/admin/users", "POST", { login, password });
      users.push({ token: await signIn(broker, login, password), issued: [] });
    }
    // One bench user opens hundreds of sessions: the per-user limit is raised to its maximum.
    await adminCall(broker, "/v1/admin/profiles", "POST", { id: PROFILE_ID, name: "Relay bench", pool: "default", mode: "relay", maxSessionsPerUser: 100 });
    const identity = await enrolSimNode(broker, { pool: "default", hostname: "relay-bench-node", originUrl });
    const body = JSON.stringify(quietHeartbeatBody([], { site: "bench" }));
    let seq = 0;
    const beat = () => beatOnce(broker.url, identity, body, ++seq);
    await beat();
    const timer = setInterval(() => beat().catch((error) => console.error(`relay bench: ${error instanceof Error ? error.message : error}`)), HEARTBEAT_EVERY_MS);
    const ticketUrl = async (base: string) => {
      const now = Date.now();
      for (const user of users) user.issued = user.issued.filter((at) => at > now - 60_000);
      const user = users.reduce((least, candidate) => (candidate.issued.length < least.issued.length ? candidate : least));
      if (user.issued.length >= TICKETS_PER_USER_PER_MINUTE) throw new Error(`more than ${USERS * TICKETS_PER_USER_PER_MINUTE} relay tickets a minute: raise USERS`);
      user.issued.push(now);
      const answer = await startSession({ url: base }, user.token, PROFILE_ID);
      if (!answer.relay) throw new Error("POST /v1/sessions answered without a relay");
      return withTicket(answer.relay.url, answer.relay.ticket);
    };
    return { broker, node: { serverId: identity.serverId, assertionKey: identity.assertionKey }, ticketUrl, stopHeartbeats: () => clearInterval(timer) };
  } catch (error) {
    await broker.stop();
    throw error;
  }
}
