/**
 * `startAgent`: loads the enrolment and runs the heartbeat loop until `stop()`. This is what
 * `main.ts run` calls, and what integration tests call with real or fake dependencies.
 */
import { createCollector } from "./collector.ts";
import type { AgentConfig } from "./config.ts";
import type { AgentDeps } from "./deps.ts";
import { createHeartbeatClient } from "./heartbeat-client.ts";
import { startHeartbeatLoop } from "./loop.ts";
import { loadEnrolment } from "./state.ts";

export interface RunningAgent {
  serverId: string;
  pool: string;
  /** Stops scheduling, aborts the beat in flight and resolves once it settled (unbounded; see `stopWithin`). */
  stop(): Promise<void>;
}

/** @throws StateError if the node is not enrolled or its state files are broken. */
export async function startAgent(config: AgentConfig, deps: AgentDeps): Promise<RunningAgent> {
  const { state, identity } = await loadEnrolment(deps.fs, config.stateDir, config.configPath);
  if (state.brokerUrl !== config.brokerUrl) {
    deps.log(`note: enrolled with ${state.brokerUrl}, now sending to ${config.brokerUrl} from the config`);
  }
  const collect = createCollector(config, deps);
  const send = createHeartbeatClient(
    { brokerUrl: config.brokerUrl, identity, requestTimeoutMs: config.requestTimeoutMs },
    deps,
  );
  const loop = startHeartbeatLoop(
    {
      intervalMs: state.intervalMs,
      maxBackoffMs: config.maxBackoffMs,
      beat: async (signal) => send((await collect(signal)).text, signal),
    },
    deps,
  );
  deps.log(`agent running as ${state.serverId} in pool ${state.pool}, sending to ${config.brokerUrl}`);
  return { serverId: state.serverId, pool: state.pool, stop: () => loop.stop() };
}
