/**
 * The launcher side of the contract (agent/README.md, Launchers), for the Node launchers shipped
 * here. Each launcher is its own small program, so it owns its process: it reads the request
 * from stdin, prints one JSON answer on stdout and exits 0, or prints a message for the user on
 * stderr and exits 1.
 */
import { execFile } from "node:child_process";
import { type LauncherInput, launcherInputSchema } from "../../launch/request.ts";

/** The agent sends a few KiB; anything much larger is not a request. */
const MAX_INPUT_BYTES = 256 * 1024;

export async function readLauncherInput(): Promise<LauncherInput> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_INPUT_BYTES) fail(`the request on stdin is larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(chunk);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    fail("the request on stdin is not JSON");
  }
  const parsed = launcherInputSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`invalid request: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"}`);
  }
  return parsed.data;
}

/** Prints the answer and exits 0. */
export function answer(reply: Record<string, unknown>): never {
  process.stdout.write(`${JSON.stringify(reply)}\n`);
  process.exit(0);
}

/** Prints `message` (shown to the user) and exits 1. */
export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/**
 * Runs a helper without a shell; resolves with its stdout, or rejects with its stderr (the
 * helper's message for the user). `timeoutMs` stays under the agent's launcher timeout.
 */
export function runHelper(file: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const message = stderr.trim() || stdout.trim() || error.message;
      reject(new Error(message));
    });
  });
}

/** `key=value` lines (a helper's answer) as a map; other lines are ignored. */
export function keyValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([a-z]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) values.set(match[1], match[2] ?? "");
  }
  return values;
}

/** A param of the profile, checked: `fallback` when absent, a failure when of the wrong shape. */
export function param<T>(params: Record<string, unknown>, name: string, check: (value: unknown) => value is T, fallback: T, expected: string): T {
  const value = params[name];
  if (value === undefined) return fallback;
  if (!check(value)) fail(`profile parameter "${name}" must be ${expected}`);
  return value;
}
