import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { closeOf, connect, mintAssertion, nextMessage, open, OTHER_SERVER_ID, startTcpEndpoint, startTestGateway } from "./helpers.ts";

const ALICE = { login: "alice", sessionId: "ses_alice_1" };

describe("gateway: a valid assertion reaches the session's endpoint", () => {
  it("bridges binary frames to a TCP echo and selects the binary subprotocol", async () => {
    const echo = await startTcpEndpoint();
    const { url, gateway } = await startTestGateway({ "*": echo.endpoint });
    const ws = await open(url, await mintAssertion(ALICE), ["binary"]);
    expect(ws.protocol).toBe("binary");
    const payload = Buffer.from([0, 1, 2, 250, 251, 252]);
    const answer = nextMessage(ws);
    ws.send(payload);
    const { data, isBinary } = await answer;
    expect(isBinary).toBe(true);
    expect(data).toEqual(payload);
    expect(gateway.connections.list()).toMatchObject([{ sessionId: "ses_alice_1", user: "alice", endpoint: `tcp://127.0.0.1:${echo.port}` }]);
  });

  it("selects no subprotocol when the client offers none", async () => {
    const echo = await startTcpEndpoint();
    const { url } = await startTestGateway({ "*": echo.endpoint });
    const ws = await open(url, await mintAssertion(ALICE));
    expect(ws.protocol).toBe("");
  });

  it("takes user and session from the assertion, never from X-Broker-User or X-Broker-Session", async () => {
    const mine = await startTcpEndpoint();
    const theirs = await startTcpEndpoint();
    const { url, gateway } = await startTestGateway({ ses_alice_1: mine.endpoint, ses_bob_1: theirs.endpoint });
    const assertion = await mintAssertion(ALICE);
    const port = Number(new URL(url).port);
    const upgraded = await new Promise<number>((resolve, reject) => {
      const headers = {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        "X-Broker-Assertion": assertion,
        "X-Broker-User": "bob",
        "X-Broker-Session": "ses_bob_1",
      };
      const call = request({ host: "127.0.0.1", port, headers });
      call.on("upgrade", (response, socket) => {
        socket.destroy();
        resolve(response.statusCode ?? 0);
      });
      call.on("response", (response) => resolve(response.statusCode ?? 0));
      call.on("error", reject);
      call.end();
    });
    expect(upgraded).toBe(101);
    await mine.nextConnection();
    expect(theirs.sockets).toHaveLength(0);
    await expect.poll(() => gateway.connections.list()[0]).toMatchObject({ user: "alice", sessionId: "ses_alice_1" });
  });
});

describe("gateway: anything but a valid, fresh assertion for this node is 401 and reaches no endpoint", () => {
  const cases: Array<[string, () => Promise<string | undefined>]> = [
    ["missing", async () => undefined],
    ["forged (another key)", () => mintAssertion({ ...ALICE, signingKey: new TextEncoder().encode("another-signing-key-0123456789abcdef0123") })],
    ["expired", () => mintAssertion({ ...ALICE, nowMs: Date.now() - 5 * 60_000 })],
    ["for another node", () => mintAssertion({ ...ALICE, serverId: OTHER_SERVER_ID })],
    ["garbage", async () => "not-a-jwt"],
  ];
  it.each(cases)("%s", async (_, assertion) => {
    const echo = await startTcpEndpoint();
    const { url, lines } = await startTestGateway({ "*": echo.endpoint });
    const upgrade = await connect(url, await assertion());
    expect(upgrade).toMatchObject({ ok: false, status: 401, body: "unauthorized\n" });
    expect(echo.sockets).toHaveLength(0);
    expect(lines.some((line) => line.startsWith("gateway: refused a connection: assertion "))).toBe(true);
  });

  it("replayed: the same assertion works once", async () => {
    const echo = await startTcpEndpoint();
    const { url, lines } = await startTestGateway({ "*": echo.endpoint });
    const assertion = await mintAssertion(ALICE);
    await open(url, assertion);
    await echo.nextConnection();
    expect(await connect(url, assertion)).toMatchObject({ ok: false, status: 401 });
    expect(echo.sockets).toHaveLength(1);
    expect(lines).toContain("gateway: refused a connection: assertion replayed");
  });
});

describe("gateway: routing and plain requests", () => {
  it("routes each session to its own endpoint before the shared one", async () => {
    const own = await startTcpEndpoint();
    const shared = await startTcpEndpoint();
    const { url } = await startTestGateway({ ses_alice_1: own.endpoint, "*": shared.endpoint });
    await open(url, await mintAssertion(ALICE));
    await open(url, await mintAssertion({ login: "bob", sessionId: "ses_bob_1" }));
    await expect.poll(() => [own.sockets.length, shared.sockets.length]).toEqual([1, 1]);
  });

  it("refuses an unknown session with 404 when there is no shared endpoint", async () => {
    const echo = await startTcpEndpoint();
    const { url } = await startTestGateway({ ses_other: echo.endpoint });
    expect(await connect(url, await mintAssertion(ALICE))).toMatchObject({ ok: false, status: 404 });
    expect(echo.sockets).toHaveLength(0);
  });

  it("routes a registered session to its owner only, and falls back to the static map once it is deleted", async () => {
    const launched = await startTcpEndpoint();
    const shared = await startTcpEndpoint();
    const { url, endpoints } = await startTestGateway({ "*": shared.endpoint });
    endpoints.set("ses_alice_1", launched.endpoint, "alice");
    expect(await connect(url, await mintAssertion({ login: "mallory", sessionId: "ses_alice_1" }))).toMatchObject({ ok: false, status: 403 });
    await open(url, await mintAssertion(ALICE));
    await launched.nextConnection();
    expect(endpoints.delete("ses_alice_1")).toBe(true);
    await open(url, await mintAssertion(ALICE));
    await shared.nextConnection();
    expect(launched.sockets).toHaveLength(1);
  });

  it("answers a request that is not a WebSocket upgrade with 426", async () => {
    const { url } = await startTestGateway({});
    const response = await fetch(url.replace("ws:", "http:"));
    expect(response.status).toBe(426);
    expect(await response.text()).toBe("only WebSocket upgrades are served\n");
  });

  it("closes with 1003 when a client sends text to a TCP endpoint", async () => {
    const echo = await startTcpEndpoint();
    const { url } = await startTestGateway({ "*": echo.endpoint });
    const ws = await open(url, await mintAssertion(ALICE), ["binary"]);
    const closed = closeOf(ws);
    ws.send("hello");
    expect(await closed).toEqual({ code: 1003, reason: "text frames are not supported: this endpoint takes binary frames" });
  });
});
