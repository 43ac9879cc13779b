/**
 * The node gateway end to end (issue 13): Debian's noVNC in headless Chromium shows a real Xvfb
 * desktop through the broker's relay → the real agent process's node gateway → x11vnc, with no
 * websockify anywhere (the desktop is Xvfb + x11vnc alone). The agent's static endpoint map
 * names one session, which the node reports as a suspended session of the user, so the relay
 * ticket (a resume) names that session and the gateway routes it by the assertion alone.
 * Straight to the gateway, a missing, forged, expired, replayed or other-node assertion gets 401
 * and reaches no session (x11vnc sees no client). An admin's disconnect, of the session on its
 * server or of the user everywhere, closes the live noVNC connection within a second with close
 * code 4000 and the admin's reason. Needs `npm run test:e2e:setup`.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../../src/tokens/broker-token.ts";
import { nodeAssertionKind } from "../../src/tokens/node-assertion.ts";
import type { AgentHandle } from "../harness/agents.ts";
import { adminCall, callOk, type RelayAnswer, signIn, startSession } from "../harness/client.ts";
import { freePort } from "../harness/ports.ts";
import { waitFor } from "../harness/wait.ts";
import { connect, nextMessage } from "../node/agent/gateway/helpers.ts";
import { type Chromium, launchChromium, type NoVncServer, noVncStatus, openNoVnc, saveScreenshot, serveNoVnc, waitForPicture } from "./browser.ts";
import { type E2eCluster, startCluster, upgradeStatus } from "./cluster.ts";
import { startVncDesktop, type VncDesktop } from "./desktop.ts";
import { differingPixels, e2eSuite, RESULTS_DIR } from "./suite.ts";

const suite = e2eSuite("e2e-gateway");
const SCREENSHOT = join(RESULTS_DIR, "gateway-novnc.png");
const USER = { login: "e2e-gw-user", password: "e2e-gw-password-123" };
/** A user with no session on the nodes: a session start places a new one (`rsv_…`), which no map names. */
const NEWCOMER = { login: "e2e-gw-newcomer", password: "e2e-gw-password-456" };
const PROFILE = { id: "gw-desk", name: "Gateway desktop", pool: "default", mode: "relay", hosts: [], acl: {}, x2goOptions: {}, maxSessionsPerUser: 100 };
/** The session node A reports and its static map names: the map has no "*", so only this session reaches the desktop. */
const SESSION_ID = "e2e-gw-desk-1";
/** The bound on an admin's disconnect, from the API call to the client's close event. */
const DISCONNECT_WITHIN_MS = 1_000;

interface GatewayNode {
  agent: AgentHandle;
  /** ws://127.0.0.1:P/, the agent's gateway (the node's origin). */
  url: string;
  /** The node's assertion key from enrolment (node.json), raw bytes. */
  key: Uint8Array;
  logFile: string;
}

let desktop: VncDesktop;
let cluster: E2eCluster;
let server: NoVncServer;
let browser: Chromium;
let userToken: string;
/** A: the desktop's node; B: a second gateway node with an empty map (its assertions are the "other node" ones). */
let nodeA: GatewayNode;
let nodeB: GatewayNode;

const gatewaySection = (port: number, endpoints: Record<string, string>) => ({ listen: `127.0.0.1:${port}`, endpoints, maxConnections: 20 });
const agentLog = (node: GatewayNode) => readFileSync(node.logFile, "utf8");
const vncClients = () => (readFileSync(desktop.vncLogFile, "utf8").match(/Got connection from client/g) ?? []).length;

/** An assertion for the user's session, signed as the broker signs them: with `key`, for `serverId`'s audience, at `nowMs`. */
async function assertion(key: Uint8Array, serverId: string, nowMs = Date.now()): Promise<string> {
  return (await signToken(key, nodeAssertionKind(serverId), USER.login, { sid: SESSION_ID }, nowMs)).token;
}

function gatewayNode(agent: AgentHandle, port: number): GatewayNode {
  const { assertionKey } = JSON.parse(readFileSync(join(agent.stateDir, "node.json"), "utf8")) as { assertionKey: string };
  return { agent, url: `ws://127.0.0.1:${port}/`, key: new Uint8Array(Buffer.from(assertionKey, "base64url")), logFile: join(suite.dir, `agent-${agent.hostname}.log`) };
}

/** Resumes the session (a fresh single-use ticket) and opens noVNC on the relay; waits for the desktop's picture. */
async function openDesktop(name: string): Promise<{ page: Page; answer: RelayAnswer }> {
  const answer = await callOk<RelayAnswer>(cluster.broker.url, `/v1/sessions/${SESSION_ID}/resume`, { token: userToken, body: { profileId: PROFILE.id } }, [200]);
  const { page, status } = await openNoVnc(browser, server, answer.relay.url, { name, protocols: [`broker-ticket.${answer.relay.ticket}`, "binary"] });
  expect(status.state, JSON.stringify(status)).toBe("connected");
  const check = await waitForPicture(page, desktop.knownPixels, { tolerance: 2, timeoutMs: 20_000 });
  expect(check.mismatches, "canvas differs from the desktop's picture").toEqual([]);
  return { page, answer };
}

/** Waits for the page's WebSocket to close; the time from `sinceMs` and what noVNC's socket saw. */
async function closedWithin(page: Page, sinceMs: number): Promise<{ ms: number; closeCode: number | null; closeReason: string | null; state: string }> {
  await page.waitForFunction(() => (globalThis as unknown as { e2e: { closeCode: number | null } }).e2e.closeCode !== null, undefined, { timeout: 5_000, polling: 10 });
  const ms = Date.now() - sinceMs;
  const status = await noVncStatus(page);
  return { ms, closeCode: status.closeCode, closeReason: status.closeReason, state: status.state };
}

beforeAll(() =>
  suite.guard("setup", async () => {
    desktop = await startVncDesktop({ logDir: suite.dir, name: "gw-desk" });
    suite.defer(() => desktop.stop());
    server = await serveNoVnc();
    suite.defer(() => server.close());
    browser = await launchChromium({ logDir: suite.dir });
    suite.defer(() => browser.close());
    const [portA, portB] = [await freePort(), await freePort()];
    cluster = await startCluster({
      dir: suite.dir,
      nodes: [
        {
          hostname: "e2e-gw-a",
          originUrl: `http://127.0.0.1:${portA}/`,
          gateway: gatewaySection(portA, { [SESSION_ID]: `tcp://127.0.0.1:${desktop.vncPort}` }),
          sessions: [{ id: SESSION_ID, user: USER.login, state: "suspended", startedAt: Date.now() - 60_000 }],
        },
        { hostname: "e2e-gw-b", originUrl: `http://127.0.0.1:${portB}/`, gateway: gatewaySection(portB, {}) },
      ],
    });
    suite.defer(() => cluster.stop());
    nodeA = gatewayNode(cluster.agents[0] as AgentHandle, portA);
    nodeB = gatewayNode(cluster.agents[1] as AgentHandle, portB);
    await adminCall(cluster.broker, "/v1/admin/users", "POST", USER);
    await adminCall(cluster.broker, "/v1/admin/profiles", "POST", PROFILE);
    userToken = await signIn(cluster.broker, USER.login, USER.password);
    // Commands need both control channels open; the resume needs A's reported session.
    await waitFor(
      async () => {
        const { servers } = await adminCall<{ servers: Array<{ serverId: string; channelConnected: boolean; sessionCount: number }> }>(cluster.broker, "/v1/admin/pools/default/servers");
        const a = servers.find((entry) => entry.serverId === nodeA.agent.serverId);
        return servers.length === 2 && servers.every((entry) => entry.channelConnected) && a?.sessionCount === 1;
      },
      30_000,
      "both channels open and node A reporting its session",
      200,
    );
  }),
);

describe("noVNC through the relay and the agent's node gateway, no websockify", () => {
  it("shows the Xvfb desktop: relay → gateway → x11vnc, routed by the session the ticket names", async () => {
    const { page, answer } = await openDesktop("gateway");
    expect(answer).toMatchObject({ mode: "relay", serverId: nodeA.agent.serverId, sessionId: SESSION_ID });
    await saveScreenshot(page, SCREENSHOT);
    expect(await differingPixels(SCREENSHOT, desktop.picturePath)).toBe(0);
    // The gateway answered the upgrade (it selects binary, as websockify did) and bridged to x11vnc's TCP port.
    const status = await noVncStatus(page);
    expect(status.sockets).toHaveLength(1);
    expect(status.sockets[0]).toMatchObject({ url: answer.relay.url, opened: true, protocol: "binary" });
    expect(agentLog(nodeA)).toContain(`gateway: ${USER.login} connected to session ${SESSION_ID} (tcp://127.0.0.1:${desktop.vncPort})`);
    await page.close();
  });

  it("an admin's disconnect of the session closes the live noVNC connection within a second, with 4000 and the reason", async () => {
    const { page } = await openDesktop("disconnect-session");
    const reason = "e2e: your session was ended by an administrator";
    const sent = Date.now();
    const answer = await adminCall<{ closed: number }>(cluster.broker, `/v1/admin/pools/default/servers/${nodeA.agent.serverId}/disconnect`, "POST", { sessionId: SESSION_ID, reason });
    const closed = await closedWithin(page, sent);
    console.log(`admin disconnect of the session → noVNC's close event: ${closed.ms} ms`);
    expect(answer).toEqual({ closed: 1 });
    expect(closed).toMatchObject({ closeCode: 4000, closeReason: reason, state: "disconnected" });
    expect(closed.ms, `closed ${closed.ms} ms after the admin call`).toBeLessThan(DISCONNECT_WITHIN_MS);
    await page.close();
  });

  it("an admin's disconnect of the user, on every node, closes the live noVNC connection within a second, with 4000 and the reason", async () => {
    const { page } = await openDesktop("disconnect-user");
    const reason = "e2e: signed out everywhere";
    const sent = Date.now();
    const report = await adminCall<{ nodes: number; closed: number; failed: unknown[] }>(cluster.broker, `/v1/admin/users/${USER.login}/disconnect`, "POST", { reason });
    const closed = await closedWithin(page, sent);
    console.log(`admin disconnect of the user → noVNC's close event: ${closed.ms} ms`);
    expect(report).toEqual({ nodes: 2, closed: 1, failed: [] });
    expect(closed).toMatchObject({ closeCode: 4000, closeReason: reason, state: "disconnected" });
    expect(closed.ms, `closed ${closed.ms} ms after the admin call`).toBeLessThan(DISCONNECT_WITHIN_MS);
    await page.close();
  });
});

describe("straight to the gateway: only a fresh, single-use assertion for this node gets through", () => {
  it("refuses a missing, forged, expired, replayed or other-node assertion with 401, and none reaches x11vnc", async () => {
    const clientsBefore = vncClients();
    const { serverId } = nodeA.agent;
    const refused = async (token: string | undefined) => {
      const upgrade = await connect(nodeA.url, token, ["binary"]);
      return upgrade.ok ? 101 : upgrade.status;
    };
    expect(await refused(undefined), "no assertion").toBe(401);
    expect(await refused(await assertion(randomBytes(32), serverId)), "forged: another key").toBe(401);
    expect(await refused(await assertion(nodeA.key, serverId, Date.now() - 120_000)), "expired").toBe(401);
    // Node B's own assertion is valid there (admitted; B's map has no such session: 404)…
    const forB = await connect(nodeB.url, await assertion(nodeB.key, nodeB.agent.serverId), ["binary"]);
    expect(forB.ok ? 101 : forB.status, "node B's assertion at node B").toBe(404);
    // …and refused at A, as is one signed with A's key for B's audience.
    expect(await refused(await assertion(nodeB.key, nodeB.agent.serverId)), "node B's assertion at A").toBe(401);
    expect(await refused(await assertion(nodeA.key, nodeB.agent.serverId)), "A's key, B's audience").toBe(401);
    await waitFor(() => agentLog(nodeA).includes("assertion bad-claims"), 5_000, "node A's log of the refusals");
    expect(vncClients(), "x11vnc clients after the refusals").toBe(clientsBefore);

    // A fresh one gets the desktop's RFB banner straight from the gateway; the same one again, 401.
    const fresh = await assertion(nodeA.key, serverId);
    const first = await connect(nodeA.url, fresh, ["binary"]);
    if (!first.ok) throw new Error(`a fresh assertion was refused: ${first.status} ${first.body}`);
    const banner = (first.received[0] ?? (await nextMessage(first.ws)).data).toString("latin1");
    expect(banner).toMatch(/^RFB 003\.00\d\n$/);
    first.ws.close();
    await waitFor(() => vncClients() === clientsBefore + 1, 5_000, "x11vnc's log of the one admitted client");
    expect(await refused(fresh), "replayed").toBe(401);

    const log = agentLog(nodeA);
    for (const why of ["missing", "bad-signature", "expired", "bad-claims", "replayed"]) expect(log).toContain(`gateway: refused a connection: assertion ${why}`);
    expect(vncClients(), "x11vnc clients after the replay").toBe(clientsBefore + 1);
  });

  it("a new session the map does not name reaches no desktop: the gateway refuses it and the relay does not upgrade", async () => {
    await adminCall(cluster.broker, "/v1/admin/users", "POST", NEWCOMER);
    const answer = await startSession(cluster.broker, await signIn(cluster.broker, NEWCOMER.login, NEWCOMER.password), PROFILE.id);
    expect(answer.sessionId).toMatch(/^rsv_/);
    const clientsBefore = vncClients();
    const outcome = await upgradeStatus(`${answer.relay.url}?ticket=${encodeURIComponent(answer.relay.ticket)}`);
    expect(outcome.upgraded, outcome.body).toBe(false);
    const placedOn = [nodeA, nodeB].find((node) => node.agent.serverId === answer.serverId) as GatewayNode;
    await waitFor(() => agentLog(placedOn).includes(`refused ${NEWCOMER.login} for session ${answer.sessionId}: unknown-session`), 5_000, "the gateway's refusal");
    expect(vncClients()).toBe(clientsBefore);
  });
});
