/**
 * The wait line under a launcher profile: a placed waiter's session is started on its node over
 * the control channel (a fake agent answers as the real one does), and a launch still in flight
 * when the pool object is reset (a deploy, a crash) is sent again with the same session id, so the waiting client
 * gets its desktop instead of an entry stuck `launching`.
 */
import { abortAllDurableObjects } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { FakeAgent } from "./channel/fake-agent.ts";
import { admin, asUser, beat, enrolNode, sampleBody, type TestNode, userToken } from "./helpers.ts";

afterEach(() => FakeAgent.closeAll());

interface StartCommand {
  id: number;
  method: "start";
  params: { sessionId: string; user: { login: string } };
}
const startFor = (login: string) => (message: unknown): message is StartCommand => (message as StartCommand | null)?.method === "start" && (message as StartCommand).params.user.login === login;

/** One node with room for one session, its channel open, and a launcher profile with a wait line. */
async function launcherLine(name: string): Promise<{ node: TestNode; agent: FakeAgent; profileId: string }> {
  expect((await admin("/v1/admin/pools", "POST", { name, intervalMs: 300_000 })).status).toBe(201);
  const node = await enrolNode(`${name}-1`, name);
  expect((await beat(node, sampleBody({ sessions: [], users: [], staticData: { maxSessions: 1 } }))).status).toBe(200);
  const agent = await FakeAgent.open(node);
  const profileId = `${name}-desk`;
  const queue = { enabled: true, maxLength: 5, maxWaitSeconds: 600 };
  expect((await admin("/v1/admin/profiles", "POST", { id: profileId, name: profileId, pool: name, mode: "relay", launcher: { name: "xvnc", params: {} }, queue })).status).toBe(201);
  return { node, agent, profileId };
}

describe("wait line: launcher profiles", () => {
  it("launches a placed waiter's session, and sends its start again when the object was reset mid-launch", async () => {
    const { node, agent, profileId } = await launcherLine("wll");
    const alice = await userToken("wll-alice");
    const bob = await userToken("wll-bob");
    agent.answers["start"] = { result: { state: "running", display: ":5" } };
    agent.answers["terminate"] = { result: {} };
    const first = await asUser(alice, "/v1/sessions", "POST", { profileId });
    expect(first.status).toBe(201);
    const aliceSession = ((await first.json()) as { sessionId: string }).sessionId;

    // The node takes bob's start but does not answer before the object is evicted.
    agent.answers["start"] = "silent";
    const queued = await asUser(bob, "/v1/sessions", "POST", { profileId });
    expect(queued.status).toBe(202);
    const placeId = ((await queued.json()) as { queued: { id: string } }).queued.id;
    expect((await asUser(alice, `/v1/sessions/${aliceSession}`, "DELETE")).status).toBe(204);
    const sent = await agent.waitFor(startFor("wll-bob"));
    expect(await (await asUser(bob, `/v1/queue/${placeId}`)).json()).toMatchObject({ state: "queued", queued: { position: 0 } });

    // A deploy or crash resets the object (a graceful eviction would wait for the launch); the agent reconnects.
    await abortAllDurableObjects();
    const back = await FakeAgent.open(node);
    back.answers["start"] = { result: { state: "running", display: ":6" } };
    const answered = await asUser(bob, `/v1/queue/${placeId}?wait=5&position=0`);
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ state: "running", sessionId: sent.params.sessionId });
    const again = back.received.filter(startFor("wll-bob"));
    expect(again).toHaveLength(1);
    expect(again[0]?.params.sessionId).toBe(sent.params.sessionId);
  }, 30_000);
});
