import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { BROKER_ISSUER } from "../../src/tokens/broker-token.ts";
import { issueRelayTicket, RELAY_AUDIENCE } from "../../src/tokens/relay-ticket.ts";
import { BrokerError } from "../../src/core/errors.ts";
import { issueTicket, redeemTicket } from "../../src/relay/tickets.ts";

const subject = { login: "alice", pool: "default", serverId: "srv_AAAAAAAAAAAAAAAAAAAA", sessionId: "rsv_1" };
const key = new TextEncoder().encode(env.SIGNING_KEY ?? "");

async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BrokerError) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("relay tickets", () => {
  it("are redeemed once for the server they name, with the user and session bound in", async () => {
    const { ticket, expiresAt } = await issueTicket(env, subject, Date.now());
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(60_000);
    const { claims, target } = await redeemTicket(env, ticket, subject.serverId, Date.now());
    expect(target).toBeNull();
    expect(claims).toMatchObject({ sub: "alice", srv: subject.serverId, sid: "rsv_1", pool: "default", aud: "relay" });
  });

  it("refuse a reused ticket", async () => {
    const { ticket } = await issueTicket(env, subject, Date.now());
    await redeemTicket(env, ticket, subject.serverId, Date.now());
    expect(await refusal(redeemTicket(env, ticket, subject.serverId, Date.now()))).toEqual({ status: 401, code: "UNAUTHORIZED" });
  });

  it("refuse an expired ticket", async () => {
    const { ticket } = await issueRelayTicket(key, subject, Date.now() - 120_000);
    expect(await refusal(redeemTicket(env, ticket, subject.serverId, Date.now()))).toEqual({ status: 401, code: "UNAUTHORIZED" });
  });

  it("refuse a ticket bound to another server, without spending it", async () => {
    const { ticket } = await issueTicket(env, subject, Date.now());
    expect(await refusal(redeemTicket(env, ticket, "srv_BBBBBBBBBBBBBBBBBBBB", Date.now()))).toEqual({ status: 403, code: "FORBIDDEN" });
    expect((await redeemTicket(env, ticket, subject.serverId, Date.now())).claims.srv).toBe(subject.serverId);
  });

  it.each([
    ["a wrong audience", { aud: "broker:session" }],
    ["a wrong issuer", { iss: "someone-else" }],
    ["a lifetime above 60 s", { lifetimeSeconds: 3600 }],
    ["a foreign key", { key: new TextEncoder().encode("another-signing-key-0123456789abcdef") }],
  ])("refuse %s", async (_name, variant: { aud?: string; iss?: string; lifetimeSeconds?: number; key?: Uint8Array }) => {
    const iat = Math.floor(Date.now() / 1000);
    const ticket = await new SignJWT({ pool: subject.pool, srv: subject.serverId, sid: subject.sessionId })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(variant.iss ?? BROKER_ISSUER)
      .setAudience(variant.aud ?? RELAY_AUDIENCE)
      .setSubject("alice")
      .setJti("jti-0123456789abcdef")
      .setIssuedAt(iat)
      .setExpirationTime(iat + (variant.lifetimeSeconds ?? 30))
      .sign(variant.key ?? key);
    expect(await refusal(redeemTicket(env, ticket, subject.serverId, Date.now()))).toEqual({ status: 401, code: "UNAUTHORIZED" });
  });

  it("refuse alg: none and garbage", async () => {
    const header = btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "");
    const payload = btoa(JSON.stringify({ iss: BROKER_ISSUER, aud: RELAY_AUDIENCE, sub: "alice", pool: "default", srv: subject.serverId, sid: "x", jti: "jti-0123456789abcdef", iat: 1, exp: 4_000_000_000 })).replace(/=+$/, "");
    expect(await refusal(redeemTicket(env, `${header}.${payload}.`, subject.serverId, Date.now()))).toEqual({ status: 401, code: "UNAUTHORIZED" });
    expect(await refusal(redeemTicket(env, "not-a-ticket", subject.serverId, Date.now()))).toEqual({ status: 401, code: "UNAUTHORIZED" });
  });
});
