/**
 * One ssh run per measurement, with the real OpenSSH client: a download (`head -c` on the node,
 * bytes counted here from the first to the last), an upload (bytes written here, timed by `dd`
 * on the node from its start to its end of input), and interactive round trips (one byte to `cat`
 * on a raw pty and back, as a keystroke is echoed). Each run is bounded by RUN_TIMEOUT_MS.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpuSeconds } from "../../test/harness/proc.ts";
import { CIPHER, RUN_TIMEOUT_MS } from "./parameters.ts";

export interface Target {
  port: number;
  login: string;
  sshOptions: string[];
  /** Processes on the path (besides ssh and sshd), for CPU per byte. */
  pids: number[];
}

export interface TransferRun {
  mbps: number;
  /** CPU seconds of the path's processes per GB moved (NaN for the direct path). */
  cpuSecondsPerGb: number;
}

function ssh(target: Target, remote: string, extra: string[] = []): ChildProcess {
  const child = spawn("ssh", [...target.sshOptions, "-c", CIPHER, "-p", String(target.port), ...extra, `${target.login}@127.0.0.1`, remote], { stdio: ["pipe", "pipe", "pipe"] });
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
  child.once("close", () => clearTimeout(timer));
  child.stdin?.on("error", () => undefined);
  return child;
}

function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-2000)));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stderr })));
}

const pathCpu = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

export async function download(target: Target, bytes: number): Promise<TransferRun> {
  const cpuBefore = pathCpu(target.pids);
  const child = ssh(target, `head -c ${bytes} /dev/zero`);
  let received = 0;
  let first = 0;
  let last = 0;
  child.stdout?.on("data", (chunk: Buffer) => {
    if (received === 0) first = performance.now();
    received += chunk.length;
    last = performance.now();
  });
  const { code, stderr } = await exited(child);
  if (code !== 0 || received !== bytes) throw new Error(`download on port ${target.port}: exit ${code}, ${received} of ${bytes} bytes: ${stderr}`);
  const gb = bytes / 1e9;
  return { mbps: bytes / 1e6 / ((last - first) / 1000), cpuSecondsPerGb: target.pids.length > 0 ? (pathCpu(target.pids) - cpuBefore) / gb : Number.NaN };
}

export async function upload(target: Target, bytes: number): Promise<TransferRun> {
  const cpuBefore = pathCpu(target.pids);
  const child = ssh(target, "dd of=/dev/null bs=65536 2>&1");
  let report = "";
  child.stdout?.on("data", (chunk: Buffer) => (report += chunk.toString("utf8")));
  const done = exited(child);
  const chunk = Buffer.alloc(64 * 1024);
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!child.stdin?.write(chunk)) await new Promise((resolve) => child.stdin?.once("drain", resolve));
  }
  child.stdin?.end();
  const { code, stderr } = await done;
  const match = /^(\d+) bytes .* copied, ([\d.]+) s/m.exec(report);
  if (code !== 0 || !match || Number(match[1]) !== bytes) throw new Error(`upload on port ${target.port}: exit ${code}, dd said ${JSON.stringify(report.trim())}: ${stderr}`);
  return { mbps: bytes / 1e6 / Number(match[2]), cpuSecondsPerGb: target.pids.length > 0 ? (pathCpu(target.pids) - cpuBefore) / (bytes / 1e9) : Number.NaN };
}

/** Milliseconds of each round trip after `warmup` untimed ones. */
export async function roundTrips(target: Target, trips: number, warmup: number): Promise<number[]> {
  const child = ssh(target, "stty raw -echo; printf R; exec cat", ["-tt"]);
  const done = exited(child);
  const waiting: Array<() => void> = [];
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("latin1");
    while (buffered.length > 0 && waiting.length > 0) {
      buffered = buffered.slice(1);
      waiting.shift()?.();
    }
  });
  const nextByte = () => new Promise<void>((resolve) => waiting.push(resolve));
  await nextByte();
  const times: number[] = [];
  for (let trip = 0; trip < warmup + trips; trip++) {
    const echoed = nextByte();
    const start = performance.now();
    child.stdin?.write("x");
    await echoed;
    if (trip >= warmup) times.push(performance.now() - start);
  }
  child.stdin?.end();
  child.kill("SIGTERM");
  await done;
  return times;
}
