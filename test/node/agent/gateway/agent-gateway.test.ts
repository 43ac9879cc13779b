import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startAgent } from "../../../../agent/agent.ts";
import { enrollNode } from "../../../../agent/enroll.ts";
import { GatewayError } from "../../../../agent/gateway/gateway.ts";
import { StateError } from "../../../../agent/state.ts";
import { fakeDeps, json, POOL, SERVER_ID, tempDir, testConfig } from "../helpers.ts";
import { assertionKeyForEnrolment, newAssertionSalt, signNodeAssertion } from "../../../../src/tokens/node-assertion.ts";
import { freePort } from "../../../harness/ports.ts";
import { closeOf, open, startTcpEndpoint } from "./helpers.ts";

const SIGNING_KEY = new TextEncoder().encode("test-signing-key-0123456789abcdef0123456789");
const SALT = newAssertionSalt();

async function enrolled(gateway: Record<string, unknown>, withKey = true) {
  const stateDir = join(await tempDir(), "state");
  const config = testConfig(stateDir, { gateway });
  const assertionKey = withKey ? await assertionKeyForEnrolment(SIGNING_KEY, SERVER_ID, SALT) : undefined;
  await enrollNode(config, "enrol-token-0123456789abcdef", fakeDeps({ send: async () => json(201, { serverId: SERVER_ID, pool: POOL, intervalMs: 10_000, assertionKey }) }));
  return config;
}

describe("startAgent with a gateway section", () => {
  it("serves the gateway with the enrolment's key, exposes its registries, and closes it on stop", async () => {
    const echo = await startTcpEndpoint();
    const port = await freePort();
    const config = await enrolled({ listen: `127.0.0.1:${port}`, endpoints: { "*": `tcp://127.0.0.1:${echo.port}` } });
    const deps = fakeDeps();
    const agent = await startAgent(config, deps);
    expect(agent.gateway?.address).toEqual({ host: "127.0.0.1", port });
    const assertion = await signNodeAssertion(SIGNING_KEY, { serverId: SERVER_ID, assertionSalt: SALT, login: "alice", sessionId: "s1" }, Date.now());
    const ws = await open(`ws://127.0.0.1:${port}/`, assertion, ["binary"]);
    await expect.poll(() => agent.gateway?.connections.list().length).toBe(1);
    const closed = closeOf(ws);
    await agent.stop();
    expect(await closed).toEqual({ code: 1001, reason: "node agent stopping" });
    expect(deps.lines).toContain(`gateway listening on 127.0.0.1:${port}, at most 200 connections`);
  });

  it("fails with one line naming the address when the listen port is taken", async () => {
    const taken = await startTcpEndpoint();
    const config = await enrolled({ listen: `127.0.0.1:${taken.port}` });
    await expect(startAgent(config, fakeDeps())).rejects.toThrow(new GatewayError(`gateway: cannot listen on 127.0.0.1:${taken.port}: EADDRINUSE`));
  });

  it("refuses to start the gateway for a node enrolled without an assertion key", async () => {
    const config = await enrolled({ listen: "127.0.0.1:7080" }, false);
    await expect(startAgent(config, fakeDeps())).rejects.toThrow(StateError);
  });
});
