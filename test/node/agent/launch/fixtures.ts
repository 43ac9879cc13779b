/**
 * Launcher scripts for the session-manager tests (POSIX sh, real processes), and a stand-in for
 * the gateway's live connections. Each launcher appends every request it gets to calls.jsonl.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConnectionMatch, LiveConnection } from "../../../../agent/gateway/connections.ts";
import { createEndpointRegistry, staticEndpoints } from "../../../../agent/gateway/endpoint-resolver.ts";
import { writeLauncher } from "./helpers.ts";

const RECORD = `input=$(cat); here=$(dirname "$0"); printf '%s\\n' "$input" >> "$here/calls.jsonl"`;
const HANDLE_PID = `pid=$(printf '%s' "$input" | sed -n 's/.*"handle":{"pid":\\([0-9]*\\)}.*/\\1/p')`;

/**
 * "desk": start runs a real desktop stand-in (sleep, its own process group) and answers running
 * with its pid and pgid; stop kills that group. With `stop: "broken"` its stop fails instead.
 */
export function writeDeskLauncher(dir: string, options: { stop?: "works" | "broken"; reportPid?: boolean } = {}): Promise<string> {
  const refs = options.reportPid === false ? "" : `,\\"pid\\":$!,\\"pgid\\":$!`;
  return writeLauncher(
    dir,
    "desk",
    `${RECORD}
case "$input" in
  *'"action":"start"'*)
    setsid sleep 300 </dev/null >/dev/null 2>&1 &
    echo "{\\"state\\":\\"running\\",\\"endpoint\\":\\"unix:/run/desk-$!.sock\\",\\"display\\":\\":5\\"${refs},\\"handle\\":{\\"pid\\":$!}}" ;;
  *'"action":"stop"'*)
    ${options.stop === "broken" ? `echo "stop is not supported here" >&2; exit 1` : `${HANDLE_PID}; kill -TERM -"$pid"; echo '{"state":"stopped"}'`} ;;
  *) echo '{"state":"running","endpoint":"unix:/run/desk.sock"}' ;;
esac`,
  );
}

/**
 * "queue": start answers queued; status answers running once the file "go" exists in the
 * launcher directory, failed once "fail" exists, else queued; stop answers stopped.
 */
export function writeQueueLauncher(dir: string): Promise<string> {
  return writeLauncher(
    dir,
    "queue",
    `${RECORD}
case "$input" in
  *'"action":"start"'*) echo '{"state":"queued","message":"waiting for a free node","handle":{"job":"42"}}' ;;
  *'"action":"status"'*)
    if [ -e "$here/go" ]; then echo '{"state":"running","endpoint":"tcp://127.0.0.1:5999","display":":9","handle":{"job":"42"}}'
    elif [ -e "$here/fail" ]; then echo '{"state":"failed","message":"the job was preempted"}'
    else echo "still waiting"; fi ;;
  *) echo '{"state":"stopped"}' ;;
esac`,
  );
}

/** Every request the launchers in `dir` received, oldest first. */
export async function launcherCalls(dir: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(join(dir, "calls.jsonl"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The gateway as the manager sees it: a real endpoint registry, live connections set by the test. */
export function fakeGateway() {
  const endpoints = createEndpointRegistry(staticEndpoints({}));
  const connected = new Set<string>();
  const disconnects: Array<{ match: ConnectionMatch; reason: string }> = [];
  const connection = (sessionId: string, id: number): LiveConnection => ({
    id,
    sessionId,
    user: "alice",
    sinceMs: 0,
    endpoint: "unix:/x",
    toClientPendingBytes: 0,
    toEndpointPendingBytes: 0,
    readingEndpoint: true,
    readingClient: true,
  });
  return {
    endpoints,
    connected,
    disconnects,
    connections: {
      list: () => [...connected].map(connection),
      disconnect(match: ConnectionMatch, reason: string) {
        disconnects.push({ match, reason });
        return 0;
      },
    },
  };
}
