/**
 * The relay ticket as a WebSocket subprotocol (`broker-ticket.<ticket>`), with the local broker
 * (test/harness), one real agent and, as its origin, an endpoint that picks subprotocols as
 * websockify does. A client that offers protocols fails a 101 that selects none (`ws` here,
 * browsers too), so the broker selects the ticket's entry when the origin selects nothing, and
 * passes the origin's choice through when it makes one. The ticket never reaches the origin.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentHandle, enrolAgent } from "../harness/agents.ts";
import { type LocalBroker, scratchBrokerOptions, startBroker } from "../harness/broker.ts";
import { adminCall, callOk, listServers, signIn } from "../harness/client.ts";
import { waitFor } from "../harness/wait.ts";
import { echo, openRelayed, type RelayOutcome, startOrigin, type TestOrigin } from "./relay-endpoints.ts";

const USER = { login: "subprotocol-user", password: "subprotocol-password-123" };

interface Relay {
  url: string;
  ticket: string;
  expiresAt: number;
  protocol: string;
  connectUrl: string;
}

let workDir: string;
let broker: LocalBroker;
let agent: AgentHandle;
let origin: TestOrigin;
let token: string;

async function startRelay(): Promise<Relay> {
  const answer = await callOk<{ relay: Relay }>(broker.url, "/v1/sessions", { token, body: { profileId: "desk" } }, [201]);
  return answer.relay;
}

/** The subprotocol entry as docs/api.md documents it (the answer's `protocol`, checked on its own below). */
const entryOf = (relay: Relay) => `broker-ticket.${relay.ticket}`;

function expectOpen(outcome: RelayOutcome): Extract<RelayOutcome, { kind: "open" }> {
  expect(outcome, JSON.stringify(outcome.kind === "open" ? { ...outcome, socket: undefined } : outcome)).toMatchObject({ kind: "open", greeting: "origin desk-node" });
  return outcome as Extract<RelayOutcome, { kind: "open" }>;
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "broker-subprotocol-"));
  broker = await startBroker(await scratchBrokerOptions(workDir));
  origin = await startOrigin("desk-node");
  agent = await enrolAgent(broker, { hostname: "desk-node", dir: join(workDir, "desk-node"), staticData: {}, originUrl: origin.url, logFile: join(workDir, "agent.log") });
  agent.start();
  // The tests start many sessions as one user on an origin that never reports them: the per-user limit is raised.
  await adminCall(broker, "/v1/admin/profiles", "POST", { maxSessionsPerUser: 100, id: "desk", name: "Desktop", pool: "default", mode: "relay", hosts: [], acl: {} });
  await adminCall(broker, "/v1/admin/users", "POST", { ...USER, groups: [] });
  token = await signIn(broker, USER.login, USER.password);
  await waitFor(async () => (await listServers(broker)).every((server) => server.status === "up"), 15_000, "the node up");
});

afterAll(async () => {
  await agent?.stop("SIGKILL");
  await broker?.stop();
  await origin?.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe("the start answer says how to present the ticket", () => {
  it("carries the subprotocol entry and a ready URL besides the ticket", async () => {
    const relay = await startRelay();
    expect(relay.protocol).toBe(`broker-ticket.${relay.ticket}`);
    expect(relay.connectUrl).toBe(`${relay.url}?ticket=${encodeURIComponent(relay.ticket)}`);
  });
});

describe("the ticket as a subprotocol", () => {
  it("opens the relay when it is the only protocol offered: the 101 selects it", async () => {
    const relay = await startRelay();
    const before = origin.offered.length;
    const opened = expectOpen(await openRelayed(relay.url, [entryOf(relay)]));
    expect(opened.protocol).toBe(entryOf(relay));
    expect(await echo(opened.socket, "over the ticket protocol")).toBe("over the ticket protocol");
    opened.socket.close();
    expect(origin.offered.slice(before)).toEqual([null]);
  });

  it("with binary offered too, the origin's choice (binary) is the 101's", async () => {
    const relay = await startRelay();
    const before = origin.offered.length;
    const opened = expectOpen(await openRelayed(relay.url, [entryOf(relay), "binary"]));
    expect(opened.protocol).toBe("binary");
    expect(await echo(opened.socket, "binary")).toBe("binary");
    opened.socket.close();
    expect(origin.offered.slice(before)).toEqual(["binary"]);
  });

  it("with a protocol the origin does not take, the 101 selects the ticket's entry", async () => {
    const relay = await startRelay();
    const before = origin.offered.length;
    const opened = expectOpen(await openRelayed(relay.url, ["base64", entryOf(relay)]));
    expect(opened.protocol).toBe(entryOf(relay));
    opened.socket.close();
    expect(origin.offered.slice(before)).toEqual(["base64"]);
  });

  it("is single use: the same entry again is refused with 401", async () => {
    const relay = await startRelay();
    expectOpen(await openRelayed(relay.url, [entryOf(relay)])).socket.close();
    expect(await openRelayed(relay.url, [entryOf(relay)])).toMatchObject({ kind: "refused", status: 401 });
  });
});

describe("the ticket in the query", () => {
  it("opens the relay with no subprotocol", async () => {
    const relay = await startRelay();
    const opened = expectOpen(await openRelayed(`${relay.url}?ticket=${encodeURIComponent(relay.ticket)}`));
    expect(opened.protocol).toBe("");
    opened.socket.close();
  });
});
