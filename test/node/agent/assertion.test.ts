import { describe, expect, it } from "vitest";
import { verifyBrokerAssertion } from "../../../agent/assertion.ts";
import { assertionKeyForEnrolment, newAssertionSalt, signNodeAssertion } from "../../../src/tokens/node-assertion.ts";

const signingKey = new TextEncoder().encode("test-signing-key-0123456789abcdef0123456789");
const serverId = "srv_AAAAAAAAAAAAAAAAAAAA";
const other = "srv_BBBBBBBBBBBBBBBBBBBB";
const salt = newAssertionSalt();

describe("broker assertions on relayed connections", () => {
  it("verify with the node's own enrolment key and name the user and session", async () => {
    const key = await assertionKeyForEnrolment(signingKey, serverId, salt);
    const token = await signNodeAssertion(signingKey, { serverId, assertionSalt: salt, login: "alice", sessionId: "rsv_1" }, Date.now());
    expect(await verifyBrokerAssertion(token, key, serverId, Date.now())).toEqual({ login: "alice", sessionId: "rsv_1" });
  });

  it("do not verify for another node, with another node's key, or once expired", async () => {
    const token = await signNodeAssertion(signingKey, { serverId, assertionSalt: salt, login: "alice", sessionId: "rsv_1" }, Date.now());
    const otherKey = await assertionKeyForEnrolment(signingKey, other, salt);
    expect(await verifyBrokerAssertion(token, otherKey, serverId, Date.now())).toBeNull();
    expect(await verifyBrokerAssertion(token, otherKey, other, Date.now())).toBeNull();
    const key = await assertionKeyForEnrolment(signingKey, serverId, salt);
    expect(await verifyBrokerAssertion(token, key, serverId, Date.now() + 10 * 60_000)).toBeNull();
    expect(await verifyBrokerAssertion("garbage", key, serverId, Date.now())).toBeNull();
  });

  it("derive different keys per node, and per enrolment of the same node", async () => {
    expect(await assertionKeyForEnrolment(signingKey, serverId, salt)).not.toBe(await assertionKeyForEnrolment(signingKey, other, salt));
    const reKeyed = newAssertionSalt();
    expect(reKeyed).not.toBe(salt);
    const token = await signNodeAssertion(signingKey, { serverId, assertionSalt: salt, login: "alice", sessionId: "rsv_1" }, Date.now());
    expect(await verifyBrokerAssertion(token, await assertionKeyForEnrolment(signingKey, serverId, reKeyed), serverId, Date.now())).toBeNull();
  });
});
