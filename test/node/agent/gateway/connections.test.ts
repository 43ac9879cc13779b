import { describe, expect, it } from "vitest";
import { closeOf, connect, mintAssertion, open, startTcpEndpoint, startTestGateway } from "./helpers.ts";

describe("gateway: the connection cap", () => {
  it("refuses the upgrade with 503 over maxConnections, and takes new ones once some close", async () => {
    const echo = await startTcpEndpoint();
    const { url } = await startTestGateway({ "*": echo.endpoint }, { maxConnections: 2 });
    const first = await open(url, await mintAssertion({ login: "alice", sessionId: "s1" }));
    await open(url, await mintAssertion({ login: "bob", sessionId: "s2" }));
    const over = await connect(url, await mintAssertion({ login: "carol", sessionId: "s3" }));
    expect(over).toMatchObject({ ok: false, status: 503 });
    expect(echo.sockets).toHaveLength(2);
    first.close();
    await closeOf(first);
    await expect.poll(async () => (await connect(url, await mintAssertion({ login: "carol", sessionId: "s3" }))).ok).toBe(true);
  });
});

describe("gateway: the connection registry", () => {
  async function threeConnections() {
    const echo = await startTcpEndpoint();
    const test = await startTestGateway({ "*": echo.endpoint });
    const aliceOne = await open(test.url, await mintAssertion({ login: "alice", sessionId: "s1" }));
    const aliceTwo = await open(test.url, await mintAssertion({ login: "alice", sessionId: "s2" }));
    const bob = await open(test.url, await mintAssertion({ login: "bob", sessionId: "s3" }));
    await expect.poll(() => test.gateway.connections.size).toBe(3);
    return { ...test, aliceOne, aliceTwo, bob };
  }

  it("lists live connections with session, user and since", async () => {
    const before = Date.now();
    const { gateway } = await threeConnections();
    const list = gateway.connections.list();
    expect(list.map(({ sessionId, user }) => ({ sessionId, user }))).toEqual([
      { sessionId: "s1", user: "alice" },
      { sessionId: "s2", user: "alice" },
      { sessionId: "s3", user: "bob" },
    ]);
    for (const live of list) expect(live.sinceMs).toBeGreaterThanOrEqual(before);
  });

  it("disconnects one session with 4000 and the reason; the others stay open", async () => {
    const { gateway, aliceOne, aliceTwo, bob } = await threeConnections();
    const closed = closeOf(aliceOne);
    expect(gateway.connections.disconnect({ sessionId: "s1" }, "ended by admin root")).toBe(1);
    expect(await closed).toEqual({ code: 4000, reason: "ended by admin root" });
    await expect.poll(() => gateway.connections.list().map((live) => live.sessionId)).toEqual(["s2", "s3"]);
    expect([aliceTwo.readyState, bob.readyState]).toEqual([aliceTwo.OPEN, bob.OPEN]);
  });

  it("disconnects every connection of one user, counts them once, and leaves other users alone", async () => {
    const { gateway, aliceOne, aliceTwo, bob } = await threeConnections();
    const closed = Promise.all([closeOf(aliceOne), closeOf(aliceTwo)]);
    expect(gateway.connections.disconnect({ user: "alice" }, "user removed")).toBe(2);
    expect(gateway.connections.disconnect({ user: "alice" }, "user removed")).toBe(0);
    expect(await closed).toEqual([
      { code: 4000, reason: "user removed" },
      { code: 4000, reason: "user removed" },
    ]);
    expect(bob.readyState).toBe(bob.OPEN);
    expect(gateway.connections.disconnect({ sessionId: "nope" }, "x")).toBe(0);
  });

  it("cuts a client that does not answer the close within the grace", async () => {
    const echo = await startTcpEndpoint();
    const { url, gateway } = await startTestGateway({ "*": echo.endpoint }, { closeGraceMs: 200 });
    const ws = await open(url, await mintAssertion({ login: "alice", sessionId: "s1" }));
    // A paused client reads nothing, so it never sees the close frame nor answers it.
    ws.pause();
    const started = Date.now();
    expect(gateway.connections.disconnect({ user: "alice" }, "revoked")).toBe(1);
    await expect.poll(() => gateway.connections.size, { interval: 20 }).toBe(0);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("stop closes every connection with 1001 'node agent stopping' and refuses new ones", async () => {
    const { gateway, url, aliceOne, bob } = await threeConnections();
    const closed = Promise.all([closeOf(aliceOne), closeOf(bob)]);
    await gateway.stop();
    expect(await closed).toEqual([
      { code: 1001, reason: "node agent stopping" },
      { code: 1001, reason: "node agent stopping" },
    ]);
    await expect(connect(url, await mintAssertion({ login: "alice", sessionId: "s1" }))).rejects.toThrow(/ECONNREFUSED/);
  });

  it("cuts the reason to the 123 bytes a close frame can carry", async () => {
    const { gateway, aliceOne } = await threeConnections();
    const closed = closeOf(aliceOne);
    gateway.connections.disconnect({ sessionId: "s1" }, "é".repeat(100));
    const { code, reason } = await closed;
    expect(code).toBe(4000);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    expect(reason.endsWith("...")).toBe(true);
  });
});
