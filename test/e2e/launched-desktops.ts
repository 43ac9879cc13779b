/**
 * What the launched-session suites and the start-latency bench share: the broker's session
 * answers, noVNC on a relay answer, solid-colour pictures (fixtures/solid-desktop), the user's
 * session list, and a launched desktop's Xvnc found by its socket path.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { signToken } from "../../src/tokens/broker-token.ts";
import { nodeAssertionKind } from "../../src/tokens/node-assertion.ts";
import type { AgentHandle } from "../harness/agents.ts";
import { call } from "../harness/client.ts";
import { type Chromium, type NoVncServer, type NoVncStatus, openNoVnc } from "./browser.ts";
import type { KnownPixel } from "./desktop.ts";

const execFileAsync = promisify(execFile);

/** The desktops' size: the test page's 640 × 480 viewport shows all of it, 1:1. */
export const DESKTOP_GEOMETRY = "640x480";

/** `POST /v1/sessions` and `/resume` answers (src/sessions/user-sessions.ts ConnectionAnswer). */
export interface SessionAnswer {
  serverId: string;
  sessionId: string;
  resumed: boolean;
  state: "running" | "starting";
  message?: string;
  relay?: { url: string; ticket: string; protocol: string; connectUrl: string; expiresAt: number };
}

/** A session as `GET /v1/sessions` lists it. */
export interface ListedSession {
  id: string;
  user: string;
  state: string;
  display?: string;
  message?: string;
  profileId?: string;
}

export async function listMySessions(brokerUrl: string, token: string): Promise<ListedSession[]> {
  const answer = await call<{ sessions: ListedSession[] }>(brokerUrl, "/v1/sessions", { token });
  if (answer.status !== 200) throw new Error(`GET /v1/sessions: ${answer.status} ${answer.text}`);
  return answer.body.sessions;
}

/**
 * Known pixels of a desktop painted `rgb` all over: a grid over the 640 × 480 canvas below the
 * top 96 rows (where a typed command and the prompt show once the text is visible).
 */
export function solidPicture(rgb: number): KnownPixel[] {
  const pixels: KnownPixel[] = [];
  for (let y = 120; y < 480; y += 90) for (let x = 20; x < 640; x += 100) pixels.push({ x, y, rgb });
  return pixels;
}

/** Opens the test page's noVNC on a running session's relay (the ticket as a subprotocol, as browsers send it). */
export async function openRelayed(browser: Chromium, server: NoVncServer, answer: SessionAnswer, name: string): Promise<{ page: Page; status: NoVncStatus }> {
  if (!answer.relay) throw new Error(`session ${answer.sessionId} has no relay (state ${answer.state})`);
  return openNoVnc(browser, server, answer.relay.url, { name, protocols: [answer.relay.protocol, "binary"] });
}

/** Lets the user's keys through (the test page opens view-only) and types `text` and Enter into the desktop. */
export async function typeIntoDesktop(page: Page, text: string): Promise<void> {
  await page.evaluate(() => {
    const rfb = (globalThis as unknown as { rfb: { viewOnly: boolean; focus(): void } }).rfb;
    rfb.viewOnly = false;
    rfb.focus();
  });
  await page.keyboard.type(text, { delay: 10 });
  await page.keyboard.press("Enter");
}

/** The pid of the Xvnc serving `login`'s launched session `sessionId` (its socket path names it), or null. */
export async function xvncPidOf(login: string, sessionId: string): Promise<number | null> {
  const { stdout } = await execFileAsync("pgrep", ["-u", login, "-x", "-f", `Xvnc .*-rfbunixpath /run/edge-desktops/${login}/${sessionId}\\.sock .*`]).catch(() => ({ stdout: "" }));
  const pids = stdout.split("\n").filter(Boolean).map(Number);
  return pids.length === 1 ? (pids[0] as number) : null;
}

/** An assertion for `login` and `sessionId` at the agent's node, signed with its key as the broker's relay signs them. */
export async function nodeAssertion(agent: AgentHandle, login: string, sessionId: string): Promise<string> {
  const { assertionKey } = JSON.parse(readFileSync(join(agent.stateDir, "node.json"), "utf8")) as { assertionKey: string };
  const key = new Uint8Array(Buffer.from(assertionKey, "base64url"));
  return (await signToken(key, nodeAssertionKind(agent.serverId), login, { sid: sessionId }, Date.now())).token;
}
