import { describe, expect, it } from "vitest";
import { verifyBrokerAssertion } from "../../../agent/assertion.ts";
import { assertionKeyForEnrolment, newAssertionSalt, signNodeAssertion } from "../../../src/tokens/node-assertion.ts";

const signingKey = new TextEncoder().encode("test-signing-key-0123456789abcdef0123456789");
const serverId = "srv_AAAAAAAAAAAAAAAAAAAA";
const other = "srv_BBBBBBBBBBBBBBBBBBBB";
const salt = newAssertionSalt();
const subject = { serverId, assertionSalt: salt, login: "alice", sessionId: "rsv_1" };

describe("broker assertions on relayed connections", () => {
  it("verify with the node's own enrolment key and name the user, session, id and expiry", async () => {
    const key = await assertionKeyForEnrolment(signingKey, serverId, salt);
    const nowMs = Date.now();
    const token = await signNodeAssertion(signingKey, subject, nowMs);
    const verdict = await verifyBrokerAssertion(token, key, serverId, nowMs);
    const expiresAtMs = (Math.floor(nowMs / 1000) + 60) * 1000;
    expect(verdict).toEqual({ ok: true, value: { login: "alice", sessionId: "rsv_1", jti: expect.any(String), expiresAtMs, acceptedUntilMs: expiresAtMs + 30_000 } });
  });

  it("do not verify for another node, with another node's key, or once expired, and say why", async () => {
    const token = await signNodeAssertion(signingKey, subject, Date.now());
    const otherKey = await assertionKeyForEnrolment(signingKey, other, salt);
    expect(await verifyBrokerAssertion(token, otherKey, serverId, Date.now())).toEqual({ ok: false, error: "bad-signature" });
    expect(await verifyBrokerAssertion(token, otherKey, other, Date.now())).toMatchObject({ ok: false });
    const key = await assertionKeyForEnrolment(signingKey, serverId, salt);
    expect(await verifyBrokerAssertion(token, key, serverId, Date.now() + 10 * 60_000)).toMatchObject({ ok: false });
    expect(await verifyBrokerAssertion("garbage", key, serverId, Date.now())).toEqual({ ok: false, error: "malformed" });
  });

  it("derive different keys per node, and per enrolment of the same node", async () => {
    expect(await assertionKeyForEnrolment(signingKey, serverId, salt)).not.toBe(await assertionKeyForEnrolment(signingKey, other, salt));
    const reKeyed = newAssertionSalt();
    expect(reKeyed).not.toBe(salt);
    const token = await signNodeAssertion(signingKey, subject, Date.now());
    expect(await verifyBrokerAssertion(token, await assertionKeyForEnrolment(signingKey, serverId, reKeyed), serverId, Date.now())).toMatchObject({ ok: false });
  });
});
