/**
 * The relay calls only origins that pass their pool's origin rules (issue 12, item 2): a node's
 * origin gets the Access service token and the user's identity while the pool allows it, and
 * not one request once the admin narrows the rules, even for a node enrolled before. Real
 * broker (test/harness), a real agent, and a loopback origin that records every request it sees.
 * Cloudflare Access itself cannot exist here: the headers are the Worker's, checked as sent.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { type AgentHandle, enrolAgent } from "../harness/agents.ts";
import { type LocalBroker, scratchBrokerOptions, startBroker } from "../harness/broker.ts";
import { adminCall, callOk, listServers, signIn } from "../harness/client.ts";
import { waitFor } from "../harness/wait.ts";
import { openRelayed } from "./relay-endpoints.ts";

const ACCESS = { ACCESS_CLIENT_ID: "access-id.test", ACCESS_CLIENT_SECRET: "access-secret-that-must-not-leak" };
const USER = { login: "origin-user", password: "origin-password-123" };

let workDir: string;
let broker: LocalBroker;
let agent: AgentHandle;
let origin: { url: string; seen: IncomingHttpHeaders[]; close(): Promise<void> };
let token: string;

/** A node origin that records the headers of every request and greets WebSockets. */
async function recordingOrigin(): Promise<typeof origin> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(request.headers);
    response.writeHead(426).end();
  });
  server.on("upgrade", (request) => seen.push(request.headers));
  const wss = new WebSocketServer({ server });
  wss.on("connection", (socket) => socket.send("origin node"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/collect`,
    seen,
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.close(() => resolve());
    }),
  };
}

async function relayUrl(): Promise<string> {
  const answer = await callOk<{ relay: { connectUrl: string } }>(broker.url, "/v1/sessions", { token, body: { profileId: "desk" } }, [201]);
  return answer.relay.connectUrl;
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "broker-origins-"));
  broker = await startBroker({ ...(await scratchBrokerOptions(workDir)), vars: ACCESS });
  origin = await recordingOrigin();
  agent = await enrolAgent(broker, { hostname: "origin-node", dir: join(workDir, "origin-node"), staticData: {}, originUrl: origin.url, logFile: join(workDir, "agent.log") });
  agent.start();
  await adminCall(broker, "/v1/admin/profiles", "POST", { id: "desk", name: "Desktop", pool: "default", mode: "relay", hosts: [], acl: {}, maxSessionsPerUser: 10 });
  await adminCall(broker, "/v1/admin/users", "POST", { ...USER, groups: [] });
  token = await signIn(broker, USER.login, USER.password);
  await waitFor(async () => (await listServers(broker)).every((server) => server.status === "up"), 15_000, "the node up");
});

afterAll(async () => {
  await agent?.stop("SIGKILL");
  await origin?.close();
  await broker?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe("origins and the relay", () => {
  it("sends the Access headers and the user's identity to an origin the pool allows", async () => {
    const outcome = await openRelayed(await relayUrl());
    expect(outcome.kind).toBe("open");
    if (outcome.kind === "open") outcome.socket.close();
    const upgrade = origin.seen.at(-1);
    expect(upgrade?.["cf-access-client-secret"]).toBe(ACCESS.ACCESS_CLIENT_SECRET);
    expect(upgrade?.["x-broker-user"]).toBe(USER.login);
  });

  it("sends nothing, not one request, once the admin narrows the pool's rules", async () => {
    await adminCall(broker, "/v1/admin/pools/default", "PATCH", { allowPrivateOrigins: false });
    const before = origin.seen.length;
    const outcome = await openRelayed(await relayUrl());
    expect(outcome).toMatchObject({ kind: "refused", status: 502 });
    expect(origin.seen.length).toBe(before);
    const [server] = (await adminCall<{ servers: Array<{ originAllowed: boolean }> }>(broker, "/v1/admin/pools/default/servers")).servers;
    expect(server?.originAllowed).toBe(false);
  });

  it("refuses to enrol a node with a loopback origin where the pool does not allow it, and spends nothing", async () => {
    const issued = await adminCall<{ token: string }>(broker, "/v1/admin/pools/default/enrolment-tokens", "POST", { ttlSeconds: 600, preApproved: true });
    const enrol = (originUrl: string) =>
      fetch(`${broker.url}/v1/agent/enrol`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: issued.token, publicKey: { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }, hostname: "collector", originUrl }),
      });
    const refused = await enrol(`${origin.url}-2`);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/loopback, private/);
    await adminCall(broker, "/v1/admin/pools/default", "PATCH", { originPatterns: ["*.nodes.example.com"] });
    expect((await enrol("https://collector.nodes.example.com")).status).toBe(201);
  });
});
