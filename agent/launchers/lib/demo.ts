/**
 * Launcher "demo": one small WebSocket desktop per session (demo-desktop.ts: RFB for noVNC, a
 * greeting and echo for other clients), in its own process group, owned by the agent's user;
 * nothing to install. What `npm start` uses, so the demo shows sessions starting, appearing,
 * resuming after a disconnect and ending.
 *
 * params: { "lifetimeMs"?: number } (default 8 h, at most 24 h): the desktop ends by itself then.
 * handle: { pid, port }.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { answer, fail, param, readLauncherInput } from "./launcher-io.ts";

const DESKTOP = join(import.meta.dirname, "demo-desktop.ts");
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;

const input = await readLauncherInput();
const isPid = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value) && value > 1;
/** An exited desktop that init has not reaped yet (a zombie) is gone; some inits reap orphans only every second or so. */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !["Z", "X"].includes(stat.charAt(stat.lastIndexOf(")") + 2));
  } catch {
    return true;
  }
};

function readPort(stream: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`the demo desktop did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    stream.once("end", () => {
      clearTimeout(timer);
      const port = Number(text.trim());
      if (Number.isInteger(port) && port > 0 && port < 65_536) resolve(port);
      else reject(new Error("the demo desktop exited before it listened"));
    });
  });
}

if (input.action === "start") {
  const isLifetime = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value) && value >= 1_000 && value <= 86_400_000;
  const lifetimeMs = param(input.profile.params, "lifetimeMs", isLifetime, 8 * 3_600_000, "a whole number of ms from 1000 to 86400000");
  // Its own group, stdio away from ours: the agent stops reading our stdout once we exit.
  const desktop = spawn(process.execPath, [DESKTOP, input.user.login, input.sessionId, input.node.hostname, String(lifetimeMs)], {
    detached: true,
    stdio: ["ignore", "ignore", "ignore", "pipe"],
  });
  const port = await readPort(desktop.stdio[3] as Readable).catch((error: Error) => {
    if (desktop.pid) process.kill(-desktop.pid, "SIGKILL");
    fail(error.message);
  });
  desktop.unref();
  const pid = desktop.pid as number;
  answer({ state: "running", endpoint: `ws://127.0.0.1:${port}/`, pid, pgid: pid, display: "demo", message: `demo desktop for ${input.user.login}`, handle: { pid, port } });
}

const pid = input.handle.pid;
const port = input.handle.port;
if (!isPid(pid) || typeof port !== "number") fail("this session's handle has no demo desktop pid and port");

if (input.action === "status") {
  answer(alive(pid) ? { state: "running", endpoint: `ws://127.0.0.1:${port}/`, pid, pgid: pid } : { state: "stopped", message: "the demo desktop has exited" });
}

// stop: the desktop's whole group, SIGKILL after a grace.
try {
  process.kill(-pid, "SIGTERM");
} catch {
  answer({ state: "stopped" });
}
const deadline = Date.now() + STOP_GRACE_MS;
while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
if (alive(pid)) process.kill(-pid, "SIGKILL");
answer({ state: "stopped", message: `demo desktop of ${input.user.login} ended` });
