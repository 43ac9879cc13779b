/**
 * The agent composed with launchers (agent.ts): the broker's `start` and `terminate` over the
 * control channel reach the session manager and real launcher processes, launched sessions ride
 * on the heartbeats with their profile, and failures answer the channel's error codes. The broker
 * end of the channel is a fake socket; the launcher runs for real.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type RunningAgent, startAgent } from "../../../../agent/agent.ts";
import { enrollNode } from "../../../../agent/enroll.ts";
import { AGENT_PATHS } from "../../../../src/protocol.ts";
import { FakeBroker } from "../channel-fakes.ts";
import { fakeDeps, json, okReply, POOL, recordingSend, SERVER_ID, tempDir, testConfig } from "../helpers.ts";
import { writeDeskLauncher } from "./fixtures.ts";
import { ALICE, launcherDir, realLaunchDeps, startRequest } from "./helpers.ts";

const agents: RunningAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) {
    await agent.sessions?.stop("ses_1", "test done");
    await agent.stop();
  }
});

async function launchingAgent() {
  const dir = await launcherDir();
  await writeDeskLauncher(dir);
  const config = testConfig(join(await tempDir(), "state"), { launchers: { dir } });
  await enrollNode(config, "enrol-token-0123456789abcdef", fakeDeps({ send: async () => json(201, { serverId: SERVER_ID, pool: POOL, intervalMs: 60_000 }) }));
  const broker = new FakeBroker();
  const { send, requests } = recordingSend(() => okReply(60_000));
  const agent = await startAgent(config, fakeDeps({ send, openSocket: broker.openSocket }), { launch: realLaunchDeps() });
  agents.push(agent);
  await vi.waitFor(() => expect(agent.channel.connected).toBe(true));
  return { agent, broker, requests };
}

/** Answers the agent's heartbeats on the channel, as the broker does. */
function answerBeats(broker: FakeBroker, answered: Set<number>): void {
  for (const message of broker.last.messages as Array<{ id?: number; method?: string }>) {
    if (message.method !== "heartbeat" || message.id === undefined || answered.has(message.id)) continue;
    answered.add(message.id);
    broker.last.deliver({ id: message.id, ok: true, result: { status: "up", draining: false, intervalMs: 60_000 } });
  }
}

type Answer = { id: number; ok: boolean; result?: unknown; error?: { code: string; message: string } };
const answerTo = (broker: FakeBroker, id: number) => broker.last.messages.find((message): message is Answer => (message as Answer).id === id && "ok" in (message as object));

describe("an agent with launchers", () => {
  it("starts a session on the broker's start, reports it on the next beat with its profile, and ends it on terminate", async () => {
    const { agent, broker, requests } = await launchingAgent();
    const answered = new Set<number>();
    // The first beat goes on the channel if it is open by then, else over HTTP (a race on a loaded machine); either way it has gone.
    await vi.waitFor(
      () => {
        answerBeats(broker, answered);
        expect(answered.size + requests.filter((request) => request.url.endsWith(AGENT_PATHS.heartbeat)).length).toBe(1);
      },
      { timeout: 5000 },
    );
    broker.last.deliver({ id: 7, method: "start", params: startRequest("desk") });
    await vi.waitFor(() => expect(answerTo(broker, 7)).toEqual({ id: 7, ok: true, result: { state: "running", display: ":5" } }), { timeout: 5000 });
    // The start sends a beat at once: the broker learns of the session without waiting an interval.
    await vi.waitFor(() => {
      answerBeats(broker, answered);
      const beats = broker.last.messages.filter((message) => (message as { method?: string }).method === "heartbeat") as Array<{ params: { sessions: unknown[] } }>;
      expect(beats.at(-1)?.params.sessions).toEqual([expect.objectContaining({ id: "ses_1", user: ALICE.login, profileId: "desktop", display: ":5" })]);
    }, { timeout: 5000 });
    expect(agent.gateway).toBeNull();
    broker.last.deliver({ id: 8, method: "terminate", params: { sessionId: "ses_1", reason: "session ended by its user" } });
    await vi.waitFor(() => expect(answerTo(broker, 8)).toEqual({ id: 8, ok: true, result: {} }), { timeout: 5000 });
    expect(agent.sessions?.sessions()).toEqual([]);
  });

  it("answers LAUNCH_FAILED with the launcher's words, UNKNOWN_SESSION for a terminate it cannot match, and BAD_MESSAGE for a start that is not one", async () => {
    const { broker } = await launchingAgent();
    broker.last.deliver({ id: 3, method: "start", params: startRequest("no-such-launcher") });
    await vi.waitFor(() => expect(answerTo(broker, 3)).toMatchObject({ ok: false, error: { code: "LAUNCH_FAILED" } }), { timeout: 5000 });
    broker.last.deliver({ id: 4, method: "terminate", params: { sessionId: "ses_none", reason: "bye" } });
    await vi.waitFor(() => expect(answerTo(broker, 4)).toMatchObject({ ok: false, error: { code: "UNKNOWN_SESSION" } }));
    broker.last.deliver({ id: 5, method: "start", params: { ...startRequest("desk"), sessionId: "../../etc/passwd" } });
    await vi.waitFor(() => expect(answerTo(broker, 5)).toMatchObject({ ok: false, error: { code: "BAD_MESSAGE" } }));
  });

  it("answers UNAVAILABLE to start and terminate when the config has no launchers", async () => {
    const config = testConfig(join(await tempDir(), "state"));
    await enrollNode(config, "enrol-token-0123456789abcdef", fakeDeps({ send: async () => json(201, { serverId: SERVER_ID, pool: POOL, intervalMs: 60_000 }) }));
    const broker = new FakeBroker();
    const agent = await startAgent(config, fakeDeps({ send: recordingSend().send, openSocket: broker.openSocket }));
    agents.push(agent);
    await vi.waitFor(() => expect(agent.channel.connected).toBe(true));
    broker.last.deliver({ id: 1, method: "start", params: startRequest("desk") });
    broker.last.deliver({ id: 2, method: "terminate", params: { sessionId: "ses_1", reason: "bye" } });
    await vi.waitFor(() => expect(answerTo(broker, 2)).toMatchObject({ ok: false, error: { code: "UNAVAILABLE" } }));
    expect(answerTo(broker, 1)).toMatchObject({ ok: false, error: { code: "UNAVAILABLE" } });
  });
});
