/**
 * Slot frees → the waiting client holds its answer. A few users wait in line, each long-polling
 * `GET /v1/queue/:id?wait=30&position=N` as a client does (re-asking at once with each new
 * position). One slot at a time is freed by the node's signed heartbeat that no longer lists one
 * of its sessions; the head's long-poll must then answer with the connection answer (a relay
 * ticket). Time = from that heartbeat leaving the client to the head's answer read; the node's
 * next beat then reports the placed user's session (confirming it) and a newcomer joins the back.
 */
import type { LocalBroker } from "../../test/harness/broker.ts";
import { type Answer, fullPool, type Idp, joinLine, type NodeSession, sleep, userCall, type Waiter } from "./setup.ts";

export const LATENCY_SLOTS = 4;
export const LATENCY_WAITERS = 4;
export const LATENCY_WARM_UP = 10;
export const LATENCY_SAMPLES = 200;
/** Pause before each freeing beat, so every waiter's long-poll is parked in the pool object. */
export const LATENCY_PARK_MS = 40;
const POLL_WAIT_S = 30;
const HEAD_TIMEOUT_MS = 5_000;
const RUN_DEADLINE_MS = 90_000;

export interface FreeLatency {
  /** Heartbeat sent → head's answer read, ms. */
  fromSent: number[];
  /** Heartbeat answered → head's answer read, ms (negative when the long-poll answered first). */
  fromAnswered: number[];
  /** The freeing heartbeat's own round trip, ms. */
  beatMs: number[];
  /** Placed answers without a relay ticket, or a long-poll that failed. */
  badAnswers: string[];
  /** Long-polls of the waiters behind the head that answered a new position, and how many were due. */
  positionUpdates: number;
  positionUpdatesDue: number;
}

interface Following {
  waiter: Waiter;
  done: Promise<{ status: number; body: Answer; at: number }>;
}

/** Position answers received by a group of followers, and when the last one came. */
export interface Updates {
  count: number;
  lastAt: number;
}

/**
 * Long-polls the place until it is no longer `queued` (or an answer comes after `until.at`): each answer with a new
 * position counts in `updates` and is asked again at once, with that position.
 */
export function follow(brokerUrl: string, waiter: Waiter, until: { at: number }, updates: Updates, waitSeconds = POLL_WAIT_S): Promise<{ status: number; body: Answer; at: number }> {
  return (async () => {
    let position = waiter.position;
    for (;;) {
      const answer = await userCall(brokerUrl, waiter.token, `/v1/queue/${waiter.queueId}?wait=${waitSeconds}&position=${position}`).catch((error: unknown) => ({ status: 0, body: { error: { code: "FETCH", message: String(error) } } as Answer, at: performance.now() }));
      if (answer.status !== 200 || answer.body.state !== "queued") return answer;
      const next = answer.body.queued?.position ?? position;
      if (next !== position) {
        updates.count++;
        updates.lastAt = answer.at;
      }
      if (performance.now() > until.at) return answer;
      position = next;
    }
  })();
}

export async function measureFreeLatency(broker: LocalBroker, idp: Idp): Promise<FreeLatency> {
  const holders: NodeSession[] = Array.from({ length: LATENCY_SLOTS }, (_, index) => ({ id: `holder-${index}`, user: `holder-${index}` }));
  const { node, profileId } = await fullPool(broker, "wl-latency", holders, LATENCY_SLOTS, { maxLength: 100, maxWaitSeconds: 600 });
  const deadline = performance.now() + RUN_DEADLINE_MS;
  const updates: Updates = { count: 0, lastAt: 0 };
  const line: Following[] = [];
  let joined = 0;
  const join = async () => {
    const login = `lat-${joined++}@bench.example`;
    const waiter = await joinLine(broker.url, login, await idp.token(login), profileId);
    if (waiter.position !== line.length + 1) throw new Error(`${waiter.login} joined at ${waiter.position}, expected ${line.length + 1}`);
    line.push({ waiter, done: follow(broker.url, waiter, { at: deadline }, updates) });
  };
  for (let index = 0; index < LATENCY_WAITERS; index++) await join();

  const result: FreeLatency = { fromSent: [], fromAnswered: [], beatMs: [], badAnswers: [], positionUpdates: 0, positionUpdatesDue: 0 };
  let sessions = holders;
  let updatesBefore = 0;
  try {
    for (let round = 0; round < LATENCY_WARM_UP + LATENCY_SAMPLES; round++) {
      if (performance.now() > deadline) throw new Error(`free-to-answer: ${round} rounds in ${RUN_DEADLINE_MS} ms, stopped`);
      await sleep(LATENCY_PARK_MS);
      const head = line.shift() as Following;
      updatesBefore = updates.count;
      const freed = sessions.slice(1);
      const { sentAt, answeredAt } = await node.beat(freed);
      const answer = await Promise.race([head.done, sleep(HEAD_TIMEOUT_MS).then(() => null)]);
      if (answer === null) throw new Error(`free-to-answer: ${head.waiter.login} (the head) had no answer ${HEAD_TIMEOUT_MS} ms after a slot freed`);
      if (round >= LATENCY_WARM_UP) {
        result.fromSent.push(answer.at - sentAt);
        result.fromAnswered.push(answer.at - answeredAt);
        result.beatMs.push(answeredAt - sentAt);
        if (answer.status !== 200 || answer.body.state !== "running" || !answer.body.relay?.ticket) result.badAnswers.push(`${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
      }
      // The user connects: the node's next beat lists their session (confirming the placement).
      sessions = [...freed, { id: `s-${head.waiter.login}`, user: head.waiter.login }];
      await node.beat(sessions);
      // Everyone behind moved up one: their long-polls answered (or are about to).
      const due = line.length;
      for (let wait = 0; wait < 100 && updates.count - updatesBefore < due; wait++) await sleep(5);
      if (round >= LATENCY_WARM_UP) {
        result.positionUpdates += Math.min(due, updates.count - updatesBefore);
        result.positionUpdatesDue += due;
      }
      await join();
    }
  } finally {
    // Leave the line: each remaining long-poll ends with 404.
    await Promise.all(line.map(({ waiter }) => userCall(broker.url, waiter.token, `/v1/queue/${waiter.queueId}`, "DELETE")));
    await Promise.all(line.map(({ done }) => done));
  }
  return result;
}
