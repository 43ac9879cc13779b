/**
 * `startAgent`: loads the enrolment, opens the control channel and runs the heartbeat loop until
 * `stop()` (beats go on the channel while it is open, over HTTP otherwise: beat-sender.ts). This is what `main.ts run` calls, and what integration tests call with real or fake
 * dependencies. The channel's command handlers are injected (the node gateway's `disconnect`).
 */
import { createBeatSender } from "./beat-sender.ts";
import { type ChannelClient, startChannelClient } from "./channel/client.ts";
import type { ChannelHandlers } from "./channel/peer.ts";
import { createCollector } from "./collector.ts";
import type { AgentConfig } from "./config.ts";
import type { AgentDeps } from "./deps.ts";
import { createHeartbeatClient } from "./heartbeat-client.ts";
import { startHeartbeatLoop } from "./loop.ts";
import { loadEnrolment } from "./state.ts";
import { SeqCounter } from "./token.ts";

export interface RunningAgent {
  serverId: string;
  pool: string;
  channel: ChannelClient;
  /** Stops scheduling, aborts the beat in flight, closes the channel and resolves once all settled (unbounded; see `stopWithin`). */
  stop(): Promise<void>;
}

/** @throws StateError if the node is not enrolled or its state files are broken. */
export async function startAgent(config: AgentConfig, deps: AgentDeps, handlers: ChannelHandlers = {}): Promise<RunningAgent> {
  const { state, identity } = await loadEnrolment(deps.fs, config.stateDir, config.configPath);
  if (state.brokerUrl !== config.brokerUrl) {
    deps.log(`note: enrolled with ${state.brokerUrl}, now sending to ${config.brokerUrl} from the config`);
  }
  const seq = new SeqCounter();
  const collect = createCollector(config, deps);
  const http = createHeartbeatClient({ brokerUrl: config.brokerUrl, identity, requestTimeoutMs: config.requestTimeoutMs, seq }, deps);
  const channel = startChannelClient(
    { brokerUrl: config.brokerUrl, identity, seq, requestTimeoutMs: config.requestTimeoutMs, maxBackoffMs: config.maxBackoffMs, handlers },
    deps,
  );
  const send = createBeatSender(channel, http, deps);
  const loop = startHeartbeatLoop(
    {
      intervalMs: state.intervalMs,
      maxBackoffMs: config.maxBackoffMs,
      beat: async (signal) => send(await collect(signal), signal),
    },
    deps,
  );
  deps.log(`agent running as ${state.serverId} in pool ${state.pool}, sending to ${config.brokerUrl}`);
  return {
    serverId: state.serverId,
    pool: state.pool,
    channel,
    stop: async () => {
      await Promise.all([loop.stop(), channel.stop()]);
    },
  };
}
