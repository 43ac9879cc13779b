/**
 * The desktop page's script (ES module, bundled with noVNC by scripts/build-assets.ts). It starts
 * or resumes the session, opens noVNC's RFB client on the relay with a fresh single-use ticket
 * (the ticket as the only WebSocket subprotocol), and after any disconnect it did not ask for
 * (network drop, node restart) asks for a new ticket and reconnects with jittered backoff: no new
 * start, the same session. A new session is known by its reservation id until its node reports
 * it; a node that names it otherwise is followed (the one new session of mine on that server).
 * When every server is busy it shows my place in line live (./wait-line.ts), with "Leave the line".
 * State for people is in the status line; for tests in `window.portalDesktop` and `data-state`.
 */
import RFB from "@novnc/novnc";
import { type ConnectAnswer, connectSession, portalState, startSession } from "./portal-api.ts";
import { type CallFailure, LineFollower } from "./wait-line.ts";

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 8000;
const POLL_MS = 2000;
/** How long after a start or connect a 404 means "not reported by its node yet" rather than "gone". */
const REPORT_GRACE_MS = 30_000;
/** A place the line no longer has: its raw id means nothing to people. */
const PLACE_GONE = "Your place in line is gone (it was removed or expired). Start again to rejoin.";

type State = "starting" | "connecting" | "connected" | "reconnecting" | "waiting" | "disconnected" | "failed" | "left";

const root = document.getElementById("desktop") as HTMLElement;
const screen = document.getElementById("screen") as HTMLElement;
const statusLine = root.querySelector("[data-status]") as HTMLElement;
const control = <T extends HTMLElement>(name: string) => root.querySelector(`[data-action="${name}"]`) as T;
const clipboard = root.querySelector("[data-clipboard]") as HTMLTextAreaElement;
const credentials = root.querySelector("[data-credentials]") as HTMLFormElement;
const profileId = root.dataset["profile"] ?? "";

/** What the page is doing, for tests and curious people (`window.portalDesktop`). */
const info = {
  state: "starting" as State,
  sessionId: root.dataset["session"] || null,
  serverId: null as string | null,
  hostname: null as string | null,
  /** Successful connections; every one used a ticket of its own. */
  connects: 0,
  tickets: 0,
  lastError: null as string | null,
};
(window as unknown as { portalDesktop: typeof info }).portalDesktop = info;

let rfb: RFB | null = null;
let userDisconnected = false;
let attempt = 0;
let timer: number | undefined;
let reportGraceUntil = 0;
/** My sessions before this page started one: what is not among them on its server is the new one. */
let before: Set<string> | null = null;
/** Every server was busy: my place in line, followed until I am placed (then connect as after a start). */
const line = new LineFollower({
  waiting: (text) => setState("waiting", text),
  placed: (answer) => use(answer),
  gone: () => fail(PLACE_GONE),
  left: () => setState("left", "You left the line."),
  failed: (result) => void handleFailure(result),
});

function setState(state: State, text: string): void {
  info.state = state;
  root.dataset["state"] = state;
  statusLine.textContent = text;
  const ended = state === "disconnected" || state === "failed" || state === "left";
  control("reconnect").hidden = !ended;
  // No session and no place kept: the button starts anew (a new place joins the back of the line).
  control("reconnect").textContent = info.sessionId === null && state !== "disconnected" ? "Start again" : "Reconnect";
  control("disconnect").hidden = ended;
  control("leave").hidden = !(state === "waiting" && line.following);
}

function fail(message: string): void {
  info.lastError = message;
  setState("failed", message);
}

function later(run: () => void, delayMs: number): void {
  window.clearTimeout(timer);
  timer = window.setTimeout(run, delayMs);
}

function retry(result: { message: string; retryAfterMs: number | null }): void {
  attempt++;
  const delay = result.retryAfterMs ?? Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
  info.lastError = result.message;
  setState("reconnecting", `Connection lost (${result.message}); reconnecting in ${Math.ceil(delay / 1000)} s…`);
  later(() => void reconnect(), delay);
}

/** A reservation the node reports under its own id: the one session of mine on that server that is new since the start. */
async function adoptReportedId(): Promise<boolean> {
  if (!info.sessionId?.startsWith("rsv_") || before === null) return false;
  const state = await portalState();
  if (!state.ok) return false;
  const fresh = state.value.sessions.filter((session) => session.serverId === info.serverId && !before?.has(session.id));
  if (fresh.length !== 1 || !fresh[0]) return false;
  info.sessionId = fresh[0].id;
  history.replaceState(null, "", `/portal/desktop?${new URLSearchParams({ session: fresh[0].id, profile: profileId })}`);
  return true;
}

/** What a failed start or connect means: go to the sign-in, give up, or try again. */
async function handleFailure(result: CallFailure): Promise<void> {
  if (result.status === 404 && (await adoptReportedId())) {
    later(() => void reconnect(), 0);
  } else if (result.status === 401) {
    window.location.assign("/");
  } else if (result.status === 404 && Date.now() > reportGraceUntil) {
    fail(`This session no longer exists (${result.message}).`);
  } else if (result.status === 400 || result.status === 403 || result.status === 410 || (result.status === 404 && info.sessionId === null)) {
    fail(result.message);
  } else {
    retry(result);
  }
}

function rememberSession(answer: ConnectAnswer): void {
  info.sessionId = answer.sessionId;
  info.serverId = answer.serverId;
  info.hostname = answer.hostname;
  history.replaceState(null, "", `/portal/desktop?${new URLSearchParams({ session: answer.sessionId, profile: profileId })}`);
}

function use(answer: ConnectAnswer): void {
  if (answer.state === "queued" && answer.queued) return void line.follow(answer.queued);
  rememberSession(answer);
  reportGraceUntil = Math.max(reportGraceUntil, Date.now() + REPORT_GRACE_MS);
  if (answer.relay) open(answer);
  else waitUntilRunning(answer.message ?? "Waiting for the session to start…");
}

async function begin(): Promise<void> {
  setState("starting", "Starting a session…");
  // Side by side: no node reports a session within the start's round trip.
  const [mine, result] = await Promise.all([portalState(), startSession(profileId)]);
  before = mine.ok ? new Set(mine.value.sessions.map((session) => session.id)) : null;
  if (result.ok) use(result.value);
  else await handleFailure(result);
}

async function reconnect(): Promise<void> {
  if (!info.sessionId) return begin();
  setState(info.connects > 0 ? "reconnecting" : "connecting", info.connects > 0 ? "Reconnecting…" : "Connecting…");
  const result = await connectSession(info.sessionId, profileId);
  if (result.ok) use(result.value);
  else await handleFailure(result);
}

/** A session queued by a scheduler: show its message until it runs, then connect. */
function waitUntilRunning(message: string): void {
  setState("waiting", message);
  later(async () => {
    const state = await portalState();
    const session = state.ok ? state.value.sessions.find((candidate) => candidate.id === info.sessionId) : undefined;
    if (session?.state === "running") void reconnect();
    else waitUntilRunning(session?.message ?? message);
  }, POLL_MS);
}

function open(answer: ConnectAnswer): void {
  const relay = answer.relay;
  if (!relay) return;
  info.tickets++;
  setState(info.connects > 0 ? "reconnecting" : "connecting", `Connecting to ${answer.hostname}…`);
  // The ticket's entry never reaches the node; `binary` does (websockify, the node gateway).
  const client = new RFB(screen, relay.url, { wsProtocols: [relay.protocol, "binary"] });
  client.scaleViewport = control<HTMLInputElement>("scale").checked;
  client.resizeSession = false;
  client.addEventListener("connect", () => {
    attempt = 0;
    info.connects++;
    info.lastError = null;
    reportGraceUntil = Math.max(reportGraceUntil, Date.now() + REPORT_GRACE_MS);
    setState("connected", `Connected to ${answer.hostname}`);
    client.focus();
  });
  client.addEventListener("disconnect", () => {
    if (rfb === client) rfb = null;
    credentials.hidden = true;
    if (userDisconnected) setState("disconnected", "Disconnected. The session keeps running; reconnect or come back later.");
    else retry({ message: "the connection closed", retryAfterMs: null });
  });
  client.addEventListener("credentialsrequired", () => {
    credentials.hidden = false;
    (credentials.querySelector("input") as HTMLInputElement).focus();
  });
  client.addEventListener("securityfailure", (event) => {
    info.lastError = (event as CustomEvent<{ reason?: string }>).detail.reason ?? "security failure";
  });
  client.addEventListener("clipboard", (event) => {
    clipboard.value = (event as CustomEvent<{ text: string }>).detail.text;
  });
  client.addEventListener("desktopname", (event) => {
    document.title = `${(event as CustomEvent<{ name: string }>).detail.name} · Desktops`;
  });
  rfb = client;
}

credentials.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = credentials.querySelector("input") as HTMLInputElement;
  rfb?.sendCredentials({ password: input.value });
  input.value = "";
  credentials.hidden = true;
});
control("fullscreen").addEventListener("click", () => {
  if (document.fullscreenElement) void document.exitFullscreen();
  else void root.requestFullscreen().catch((error: Error) => (info.lastError = error.message));
});
document.addEventListener("fullscreenchange", () => {
  control("fullscreen").textContent = document.fullscreenElement ? "Leave full screen" : "Full screen";
  rfb?.focus();
});
control<HTMLInputElement>("scale").addEventListener("change", (event) => {
  if (rfb) rfb.scaleViewport = (event.target as HTMLInputElement).checked;
  root.classList.toggle("unscaled", !(event.target as HTMLInputElement).checked);
});
control("ctrl-alt-del").addEventListener("click", () => rfb?.sendCtrlAltDel());
control("paste").addEventListener("click", () => rfb?.clipboardPasteFrom(clipboard.value));
control("leave").addEventListener("click", () => void line.leave());
control("disconnect").addEventListener("click", () => {
  userDisconnected = true;
  window.clearTimeout(timer);
  if (rfb) rfb.disconnect();
  else if (line.stop()) {
    // The place stays (leaving is its own button): a start (Reconnect) follows it again.
    setState("disconnected", "Stopped following your place in line. It is kept: Reconnect to follow it again; if a server frees first, your desktop is started for you (see My desktops).");
  } else setState("disconnected", "Disconnected.");
});
control("reconnect").addEventListener("click", () => {
  userDisconnected = false;
  attempt = 0;
  reportGraceUntil = Date.now() + REPORT_GRACE_MS;
  void reconnect();
});
window.addEventListener("online", () => {
  if (info.state === "reconnecting" && !rfb) later(() => void reconnect(), 0);
});

reportGraceUntil = Date.now() + REPORT_GRACE_MS;
void (info.sessionId ? reconnect() : begin());
