import { describe, expect, it } from "vitest";
import { verifyBrokerAssertion } from "../../../agent/assertion.ts";
import { assertionKeyForEnrolment, signNodeAssertion } from "../../../src/tokens/node-assertion.ts";

const signingKey = new TextEncoder().encode("test-signing-key-0123456789abcdef0123456789");
const serverId = "srv_AAAAAAAAAAAAAAAAAAAA";
const other = "srv_BBBBBBBBBBBBBBBBBBBB";

describe("broker assertions on relayed connections", () => {
  it("verify with the node's own enrolment key and name the user and session", async () => {
    const key = await assertionKeyForEnrolment(signingKey, serverId);
    const token = await signNodeAssertion(signingKey, { serverId, login: "alice", sessionId: "rsv_1" }, Date.now());
    expect(await verifyBrokerAssertion(token, key, serverId, Date.now())).toEqual({ login: "alice", sessionId: "rsv_1" });
  });

  it("do not verify for another node, with another node's key, or once expired", async () => {
    const token = await signNodeAssertion(signingKey, { serverId, login: "alice", sessionId: "rsv_1" }, Date.now());
    const otherKey = await assertionKeyForEnrolment(signingKey, other);
    expect(await verifyBrokerAssertion(token, otherKey, serverId, Date.now())).toBeNull();
    expect(await verifyBrokerAssertion(token, otherKey, other, Date.now())).toBeNull();
    const key = await assertionKeyForEnrolment(signingKey, serverId);
    expect(await verifyBrokerAssertion(token, key, serverId, Date.now() + 10 * 60_000)).toBeNull();
    expect(await verifyBrokerAssertion("garbage", key, serverId, Date.now())).toBeNull();
  });

  it("derive different keys per node", async () => {
    expect(await assertionKeyForEnrolment(signingKey, serverId)).not.toBe(await assertionKeyForEnrolment(signingKey, other));
  });
});
