/**
 * Samples the broker Worker's V8 isolate through the inspector (a broker started with
 * `inspectorPort`), to say whether a latency spike was a garbage collection pause. The Chrome
 * DevTools Protocol's sampling profiler marks each sample with the function running then;
 * "(garbage collector)" samples in a row are one GC pause. Profiling costs the isolate some CPU,
 * so a profiled run is reported apart from the timed ones.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface IsolateProfileSummary {
  gcMs: number;
  /** The longest run of GC samples, and how many runs lasted at least LONG_GC_PAUSE_MS. */
  longestGcPauseMs: number;
  longGcPauses: number;
}

export interface IsolateProfiler {
  stop(): Promise<IsolateProfileSummary>;
}

export const LONG_GC_PAUSE_MS = 50;
const SAMPLING_INTERVAL_US = 500;
/** An inspector command unanswered this long fails the bench instead of hanging it. */
const COMMAND_TIMEOUT_MS = 30_000;

/** Starts sampling the isolate of the Worker whose inspector title contains `core:user:` (Miniflare's name for the user's Worker). */
export async function startIsolateProfiler(inspectorPort: number): Promise<IsolateProfiler> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { title: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((candidate) => candidate.title.includes("core:user:"));
  if (!target) throw new Error(`no core:user: isolate among the inspector's targets: ${targets.map((t) => t.title).join(", ")}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot open ${target.webSocketDebuggerUrl}`)), { once: true });
  });
  const answers = new Map<number, (result: unknown) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) answers.get(message.id)?.(message.result);
  });
  let nextId = 1;
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => reject(new Error(`the inspector did not answer ${method} within ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
      answers.set(id, (result) => (clearTimeout(timer), resolve(result)));
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
  await call("Profiler.start");
  return {
    async stop() {
      const { profile } = (await call("Profiler.stop")) as { profile: CpuProfile };
      socket.close();
      return summarise(profile);
    },
  };
}

/** GC time and pauses from a sampled profile; exported for its table test. */
export function summarise(profile: CpuProfile): IsolateProfileSummary {
  const names = new Map(profile.nodes.map((node) => [node.id, node.callFrame.functionName]));
  let gcUs = 0;
  let pauseUs = 0;
  let longestUs = 0;
  let longPauses = 0;
  const endPause = () => {
    if (pauseUs >= LONG_GC_PAUSE_MS * 1000) longPauses++;
    longestUs = Math.max(longestUs, pauseUs);
    pauseUs = 0;
  };
  profile.samples.forEach((nodeId, index) => {
    const deltaUs = profile.timeDeltas[index] ?? 0;
    const name = names.get(nodeId);
    if (name === "(garbage collector)") {
      gcUs += deltaUs;
      pauseUs += deltaUs;
    } else if (pauseUs > 0) endPause();
  });
  endPause();
  return { gcMs: gcUs / 1000, longestGcPauseMs: longestUs / 1000, longGcPauses: longPauses };
}
