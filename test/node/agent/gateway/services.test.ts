/**
 * The gateway's TCP services (issue 17): a service assertion reaches the endpoint the config
 * gives that service and nothing else; a desktop assertion never reaches a service and a service
 * assertion never reaches a desktop; unknown services are 404; forged, expired, replayed and
 * other-node service assertions are 401. Real loopback sockets, assertions signed as the relay
 * signs them.
 */
import { describe, expect, it } from "vitest";
import { verifyRelayedAssertion } from "../../../../agent/assertion.ts";
import { parseConfig } from "../../../../agent/config.ts";
import { signToken } from "../../../../src/tokens/broker-token.ts";
import { deriveAssertionKey, nodeAssertionKind } from "../../../../src/tokens/node-assertion.ts";
import { serviceAssertionKind, signServiceAssertion } from "../../../../src/tokens/service-assertion.ts";
import { ASSERTION_KEY, ASSERTION_SALT, closeOf, connect, mintAssertion, nextMessage, open, OTHER_SERVER_ID, SERVER_ID, SIGNING_KEY, startTcpEndpoint, startTestGateway } from "./helpers.ts";

function mintServiceAssertion(subject: { login: string; service: string; serverId?: string; nowMs?: number; signingKey?: Uint8Array }): Promise<string> {
  const node = { serverId: subject.serverId ?? SERVER_ID, assertionSalt: ASSERTION_SALT, login: subject.login, service: subject.service };
  return signServiceAssertion(subject.signingKey ?? SIGNING_KEY, node, subject.nowMs ?? Date.now());
}

const ALICE_SSH = { login: "alice", service: "ssh" };

describe("gateway services: a service assertion reaches its service", () => {
  it("bridges binary frames to the service's TCP endpoint and lists the connection as the service", async () => {
    const sshd = await startTcpEndpoint();
    const desktop = await startTcpEndpoint();
    const { url, gateway, lines } = await startTestGateway({ "*": desktop.endpoint }, { services: { ssh: sshd.endpoint } });
    const ws = await open(url, await mintServiceAssertion(ALICE_SSH), ["binary"]);
    expect(ws.protocol).toBe("binary");
    const answer = nextMessage(ws);
    ws.send(Buffer.from("SSH-2.0-client\r\n"));
    expect((await answer).data.toString()).toBe("SSH-2.0-client\r\n");
    expect(desktop.sockets).toHaveLength(0);
    expect(gateway.connections.list()).toMatchObject([{ sessionId: "service:ssh", user: "alice", endpoint: `tcp://127.0.0.1:${sshd.port}` }]);
    expect(lines).toContain(`gateway: alice connected to service:ssh (tcp://127.0.0.1:${sshd.port})`);
  });

  it("ends a user's service connections when the broker disconnects the user", async () => {
    const sshd = await startTcpEndpoint();
    const { url, gateway } = await startTestGateway({}, { services: { ssh: sshd.endpoint } });
    const ws = await open(url, await mintServiceAssertion(ALICE_SSH));
    const closed = closeOf(ws);
    expect(gateway.connections.disconnect({ user: "alice" }, "user removed")).toBe(1);
    expect(await closed).toEqual({ code: 4000, reason: "user removed" });
  });
});

describe("gateway services: desktops and services never reach each other", () => {
  it("answers a service the config does not list with 404, even with a shared desktop", async () => {
    const desktop = await startTcpEndpoint();
    const sshd = await startTcpEndpoint();
    const { url } = await startTestGateway({ "*": desktop.endpoint }, { services: { ssh: sshd.endpoint } });
    expect(await connect(url, await mintServiceAssertion({ login: "alice", service: "rdp" }))).toMatchObject({ ok: false, status: 404, body: "no such service on this node\n" });
    expect(desktop.sockets).toHaveLength(0);
    expect(sshd.sockets).toHaveLength(0);
  });

  it("takes a desktop assertion to its session, never to a service of the same name", async () => {
    const sshd = await startTcpEndpoint();
    const { url } = await startTestGateway({}, { services: { ssh: sshd.endpoint } });
    for (const sessionId of ["ssh", "service:ssh"]) {
      expect(await connect(url, await mintAssertion({ login: "alice", sessionId }))).toMatchObject({ ok: false, status: 404 });
    }
    expect(sshd.sockets).toHaveLength(0);
  });

  it("refuses a token that claims one kind's audience with the other kind's claims", async () => {
    const sshd = await startTcpEndpoint();
    const desktop = await startTcpEndpoint();
    const { url } = await startTestGateway({ "*": desktop.endpoint }, { services: { ssh: sshd.endpoint } });
    const key = await deriveAssertionKey(SIGNING_KEY, SERVER_ID, ASSERTION_SALT);
    const serviceClaimsAsDesktop = await signToken(key, { ...nodeAssertionKind(SERVER_ID), claims: serviceAssertionKind(SERVER_ID).claims }, "alice", { svc: "ssh" }, Date.now());
    const desktopClaimsAsService = await signToken(key, { ...serviceAssertionKind(SERVER_ID), claims: nodeAssertionKind(SERVER_ID).claims }, "alice", { sid: "ses_1" }, Date.now());
    expect(await verifyRelayedAssertion(serviceClaimsAsDesktop.token, ASSERTION_KEY, SERVER_ID, Date.now())).toEqual({ ok: false, error: "bad-claims" });
    expect(await verifyRelayedAssertion(desktopClaimsAsService.token, ASSERTION_KEY, SERVER_ID, Date.now())).toEqual({ ok: false, error: "bad-claims" });
    for (const token of [serviceClaimsAsDesktop.token, desktopClaimsAsService.token]) expect(await connect(url, token)).toMatchObject({ ok: false, status: 401 });
    expect([desktop.sockets.length, sshd.sockets.length]).toEqual([0, 0]);
  });
});

describe("gateway services: anything but a valid, fresh service assertion for this node is 401", () => {
  const cases: Array<[string, () => Promise<string>]> = [
    ["forged (another key)", () => mintServiceAssertion({ ...ALICE_SSH, signingKey: new TextEncoder().encode("another-signing-key-0123456789abcdef0123") })],
    ["expired", () => mintServiceAssertion({ ...ALICE_SSH, nowMs: Date.now() - 5 * 60_000 })],
    ["for another node", () => mintServiceAssertion({ ...ALICE_SSH, serverId: OTHER_SERVER_ID })],
  ];
  it.each(cases)("%s", async (_, assertion) => {
    const sshd = await startTcpEndpoint();
    const { url } = await startTestGateway({}, { services: { ssh: sshd.endpoint } });
    expect(await connect(url, await assertion())).toMatchObject({ ok: false, status: 401, body: "unauthorized\n" });
    expect(sshd.sockets).toHaveLength(0);
  });

  it("replayed: the same service assertion works once", async () => {
    const sshd = await startTcpEndpoint();
    const { url } = await startTestGateway({}, { services: { ssh: sshd.endpoint } });
    const assertion = await mintServiceAssertion(ALICE_SSH);
    await open(url, assertion);
    expect(await connect(url, assertion)).toMatchObject({ ok: false, status: 401 });
    expect(sshd.sockets).toHaveLength(1);
  });
});

describe("config: gateway services", () => {
  const base = { brokerUrl: "https://broker.example.com", stateDir: "state", originUrl: "https://node-17.example.com/", sessionSource: { type: "none" } };
  const parse = (services: unknown) => parseConfig(JSON.stringify({ ...base, gateway: { listen: "127.0.0.1:7080", services } }), "/etc/agent/agent.json", "desk01");

  it("maps service names to TCP and Unix endpoints", () => {
    expect(parse({ ssh: "tcp://127.0.0.1:22", rdp: "unix:/run/xrdp.sock" }).gateway?.services).toEqual({
      ssh: { kind: "tcp", host: "127.0.0.1", port: 22 },
      rdp: { kind: "unix", path: "/run/xrdp.sock" },
    });
  });

  it.each([
    [{ ssh: "ws://127.0.0.1:8080/" }, "a service endpoint is tcp://host:port or unix:/path"],
    [{ SSH: "tcp://127.0.0.1:22" }, "a service name is 1-32 chars"],
    [{ ssh: "127.0.0.1:22" }, "is not an endpoint"],
  ])("refuses %j", (services, message) => {
    expect(() => parse(services)).toThrow(message);
  });
});
