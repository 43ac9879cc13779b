/**
 * The relay end to end: the local broker (test/harness), two real agents whose origins are two
 * real desktops (different known pictures), a broker-managed user who signs in and starts a
 * relay session, and Debian's noVNC in headless Chromium connecting to `/v1/relay/<serverId>`
 * with the ticket as its only WebSocket subprotocol (the start answer's `relay.protocol`,
 * `broker-ticket.<ticket>`), then with `binary` offered after it: the canvas must show the
 * picture of the desktop the broker placed the session on. Then the refusals, from Node, with
 * the HTTP status of the refused upgrade: no ticket (401), a spent ticket (401), a ticket for
 * another server (403).
 * Needs `npm run test:e2e:setup`.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, type RelayAnswer, signIn, startSession, withTicket } from "../harness/client.ts";
import { type Chromium, checkCanvas, launchChromium, type NoVncServer, noVncStatus, openNoVnc, saveScreenshot, serveNoVnc, waitForPicture } from "./browser.ts";
import { type E2eCluster, startCluster, upgradeStatus } from "./cluster.ts";
import { type Desktop, rfbBannerOverWebSocket, startDesktop } from "./desktop.ts";
import { differingPixels, e2eSuite, RESULTS_DIR } from "./suite.ts";

const suite = e2eSuite("e2e-relay");
const SCREENSHOT = join(RESULTS_DIR, "relay-novnc.png");
const USER = { login: "e2e-user", password: "e2e-password-123" };
// The brief's body had `command: ""`; the profile schema wants a non-empty command (default:
// X2Go's), which a relay profile does not use, so it is left out here.
/** The tests start several sessions as one user: the per-user limit is raised. */
const PROFILE = { id: "desk", name: "Desktop", pool: "default", mode: "relay", hosts: [], acl: {}, x2goOptions: {}, maxSessionsPerUser: 100 };

let desktops: Desktop[];
let cluster: E2eCluster;
let server: NoVncServer;
let browser: Chromium;
/** Set by the tests in order: later ones reuse what earlier ones obtained. */
let userToken: string | undefined;
let first: RelayAnswer | undefined;

/** The start answer's relay object, with the ways to present the ticket it names. */
type Relay = RelayAnswer["relay"] & { protocol: string; connectUrl: string };

/** The ticket as a subprotocol entry, in the form docs/api.md gives (the answer's `relay.protocol`). */
const ticketProtocol = (answer: RelayAnswer) => `broker-ticket.${answer.relay.ticket}`;

/** The desktop behind a server id (agent i was enrolled with desktop i's origin). */
function desktopOf(serverId: string): Desktop {
  const index = cluster.agents.findIndex((agent) => agent.serverId === serverId);
  if (index < 0) throw new Error(`the broker placed the session on unknown server ${serverId}`);
  return desktops[index] as Desktop;
}

function requireState<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing: an earlier test in this file failed`);
  return value;
}

beforeAll(() =>
  suite.guard("setup", async () => {
    desktops = [];
    for (const variant of [0, 1]) {
      const desktop = await startDesktop({ logDir: suite.dir, variant, name: `desk-${variant}` });
      suite.defer(() => desktop.stop());
      desktops.push(desktop);
    }
    server = await serveNoVnc();
    suite.defer(() => server.close());
    browser = await launchChromium({ logDir: suite.dir });
    suite.defer(() => browser.close());
    cluster = await startCluster({
      dir: suite.dir,
      nodes: desktops.map((desktop, index) => ({ hostname: `e2e-node-${index}`, originUrl: `${desktop.websockifyUrl}/websockify` })),
    });
    suite.defer(() => cluster.stop());
  }),
);

describe("noVNC through the broker's relay", () => {
  it("an admin creates a user and a relay profile; the user signs in", async () => {
    const { broker } = cluster;
    await adminCall(broker, "/v1/admin/users", "POST", USER);
    const token = await signIn(broker, USER.login, USER.password);
    await adminCall(broker, "/v1/admin/profiles", "POST", PROFILE);
    userToken = token;
  });

  it("the user starts a relay session and noVNC, offering only the ticket's subprotocol, shows the placed server's desktop", async () => {
    const token = requireState(userToken, "the user's token");
    const answer = await startSession(cluster.broker, token, PROFILE.id);
    expect(answer).toMatchObject({ mode: "relay", serverId: expect.any(String), sessionId: expect.any(String) });
    expect(answer.relay).toMatchObject({ ticket: expect.any(String), expiresAt: expect.any(Number) });
    const brokerHost = new URL(cluster.broker.url).host;
    expect(answer.relay.url).toBe(`ws://${brokerHost}/v1/relay/${answer.serverId}`);
    expect(answer.relay.expiresAt).toBeGreaterThan(Date.now());
    first = answer;

    const expected = desktopOf(answer.serverId);
    const other = desktops.find((desktop) => desktop !== expected) as Desktop;
    const wsUrl = answer.relay.url;
    const { page, status } = await openNoVnc(browser, server, wsUrl, { name: "relay", protocols: [ticketProtocol(answer)] });
    expect(status.state, JSON.stringify(status)).toBe("connected");

    const check = await waitForPicture(page, expected.knownPixels, { tolerance: 2, timeoutMs: 20_000 });
    await saveScreenshot(page, SCREENSHOT);
    expect({ width: check.width, height: check.height }).toEqual({ width: expected.width, height: expected.height });
    expect(check.mismatches, `canvas differs from ${expected.display}'s picture (screenshot: ${SCREENSHOT})`).toEqual([]);
    expect(check.maxDelta).toBeLessThanOrEqual(2);
    expect(await differingPixels(SCREENSHOT, expected.picturePath)).toBe(0);
    // …and it is not the other node's desktop: every sampled point differs from that picture.
    expect((await checkCanvas(page, other.knownPixels, 2)).mismatches).toHaveLength(other.knownPixels.length);

    const after = await noVncStatus(page);
    expect(after.state).toBe("connected");
    expect(after.sockets).toHaveLength(1);
    // The broker's 101 selected the ticket's entry: websockify was offered no subprotocol.
    expect(after.sockets[0]).toMatchObject({ url: wsUrl, opened: true, protocol: ticketProtocol(answer) });
    await page.close();
    // The answer names that entry and a ready URL, so a client need not build them.
    const relay = answer.relay as Relay;
    expect({ protocol: relay.protocol, connectUrl: relay.connectUrl }).toEqual({ protocol: ticketProtocol(answer), connectUrl: withTicket(relay.url, relay.ticket) });
  });

  it("noVNC offering the ticket's subprotocol and binary gets binary, websockify's choice", async () => {
    const token = requireState(userToken, "the user's token");
    const answer = await startSession(cluster.broker, token, PROFILE.id);
    const relay = answer.relay;
    const expected = desktopOf(answer.serverId);
    const { page, status } = await openNoVnc(browser, server, relay.url, { name: "relay-binary", protocols: [ticketProtocol(answer), "binary"] });
    expect(status.state, JSON.stringify(status)).toBe("connected");
    const check = await waitForPicture(page, expected.knownPixels, { tolerance: 2, timeoutMs: 20_000 });
    expect(check.mismatches, `canvas differs from ${expected.display}'s picture`).toEqual([]);
    expect((await noVncStatus(page)).sockets[0]).toMatchObject({ url: relay.url, opened: true, protocol: "binary" });
    await page.close();
  });

  it("refuses an upgrade with no ticket with 401, before any upgrade", async () => {
    // Needs no session: any enrolled server's relay URL.
    const relayUrl = `${cluster.broker.url.replace(/^http/, "ws")}/v1/relay/${(cluster.agents[0] as { serverId: string }).serverId}`;
    const bare = await upgradeStatus(relayUrl);
    expect(bare, bare.body).toMatchObject({ upgraded: false, status: 401 });
    const empty = await upgradeStatus(`${relayUrl}?ticket=`);
    expect(empty, empty.body).toMatchObject({ upgraded: false, status: 401 });
    const forged = await upgradeStatus(withTicket(relayUrl, "not.a.ticket"));
    expect(forged, forged.body).toMatchObject({ upgraded: false, status: 401 });
  });

  it("refuses a spent ticket (the one noVNC used) with 401", async () => {
    const answer = requireState(first, "the first session");
    const reused = await upgradeStatus(withTicket(answer.relay.url, answer.relay.ticket));
    expect(reused, reused.body).toMatchObject({ upgraded: false, status: 401 });
  });

  it("refuses a ticket issued for one server on another server's relay with 403", async () => {
    const token = requireState(userToken, "the user's token");
    const second = await startSession(cluster.broker, token, PROFILE.id);
    const otherServerId = cluster.agents.map((agent) => agent.serverId).find((id) => id !== second.serverId);
    expect(otherServerId, "two enrolled servers").toBeDefined();
    const swapped = second.relay.url.replace(`/v1/relay/${second.serverId}`, `/v1/relay/${otherServerId}`);
    expect(swapped).not.toBe(second.relay.url);
    const outcome = await upgradeStatus(withTicket(swapped, second.relay.ticket));
    expect(outcome, outcome.body).toMatchObject({ upgraded: false, status: 403 });
  });

  it("a fresh ticket opens the relay from Node too: 101, subprotocol binary, the node's RFB banner", async () => {
    const token = requireState(userToken, "the user's token");
    const answer = await startSession(cluster.broker, token, PROFILE.id);
    const banner = await rfbBannerOverWebSocket(withTicket(answer.relay.url, answer.relay.ticket));
    expect(banner).toMatch(/^RFB 003\.00\d\n$/);
    // The ticket is spent now: the same URL is refused.
    const again = await upgradeStatus(withTicket(answer.relay.url, answer.relay.ticket));
    expect(again.status).toBe(401);
    // A user's sign-in token (signed with the same key) is not a relay ticket.
    expect((await upgradeStatus(withTicket(answer.relay.url, token))).status).toBe(401);
  });
});
