/**
 * Launcher "xvnc": a per-user TigerVNC desktop on this node, through `as-user xvnc-start` (sudo).
 * The desktop runs as the user with an X authority cookie; its RFB endpoint is a unix socket in
 * /run/edge-desktops/<login>/ that only the user and the agent's group can open (no TCP port).
 *
 * params: { "session"?: ["/abs/command", "arg", …] (default ["/etc/X11/Xsession"]),
 *           "geometry"?: "1280x800", "depth"?: 24 }
 * handle: { pid, display, socket }. The desktop ends on stop, or when the session command exits.
 */
import { asUser, isDepth, isGeometry, isStringArray } from "./helper.ts";
import { answer, fail, keyValues, param, readLauncherInput } from "./launcher-io.ts";

const input = await readLauncherInput();
const login = input.user.login;

/** The agent's user may not signal the user's Xvnc, but can see it exists (EPERM). */
const exists = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

if (input.action === "start") {
  const params = input.profile.params;
  const session = param(params, "session", isStringArray, ["/etc/X11/Xsession"], "an array of strings: an absolute command path and its arguments");
  const geometry = param(params, "geometry", isGeometry, "1280x800", 'a "WIDTHxHEIGHT" string');
  const depth = param(params, "depth", isDepth, 24, "16, 24 or 32");
  const started = keyValues(await asUser(["xvnc-start", login, input.sessionId, geometry, String(depth), "--", ...session]).catch((error: Error) => fail(error.message)));
  const pid = Number(started.get("pid"));
  const display = started.get("display") ?? "";
  const socket = started.get("socket") ?? "";
  if (!Number.isInteger(pid) || !/^\d+$/.test(display) || !socket.startsWith("/")) fail("the desktop helper gave no display, pid and socket");
  answer({ state: "running", endpoint: `unix:${socket}`, display: `:${display}`, pid, message: `desktop :${display} of ${login}`, handle: { pid, display, socket } });
}

const { pid, socket } = input.handle;
if (typeof pid !== "number" || !Number.isInteger(pid) || typeof socket !== "string") fail("this session's handle has no Xvnc pid and socket");

if (input.action === "status") {
  answer(exists(pid) ? { state: "running", endpoint: `unix:${socket}`, pid } : { state: "stopped", message: "the desktop has exited" });
}

await asUser(["xvnc-stop", login, input.sessionId, String(pid)]).catch((error: Error) => fail(error.message));
answer({ state: "stopped" });
