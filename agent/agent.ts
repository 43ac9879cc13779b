/**
 * `startAgent`: loads the enrolment, starts the node gateway when the config has one, opens the
 * control channel and runs the heartbeat loop until `stop()` (beats go on the channel while it is
 * open, over HTTP otherwise: beat-sender.ts). This is what `main.ts run` calls, and what
 * integration tests call with real or fake dependencies. The channel's `disconnect` command ends
 * the gateway's live connections.
 */
import { createBeatSender } from "./beat-sender.ts";
import { type ChannelClient, startChannelClient } from "./channel/client.ts";
import type { ChannelHandlers } from "./channel/peer.ts";
import { createCollector } from "./collector.ts";
import type { AgentConfig } from "./config.ts";
import type { AgentDeps } from "./deps.ts";
import { createEndpointRegistry, type EndpointRegistry, staticEndpoints } from "./gateway/endpoint-resolver.ts";
import { type RunningGateway, startGateway } from "./gateway/gateway.ts";
import { createHeartbeatClient } from "./heartbeat-client.ts";
import { startHeartbeatLoop } from "./loop.ts";
import { type NodeState, StateError, loadEnrolment } from "./state.ts";
import { SeqCounter } from "./token.ts";

export interface AgentGateway extends Omit<RunningGateway, "stop"> {
  /** Session endpoints registered at run time, in front of the config's static map. */
  endpoints: EndpointRegistry;
}

export interface RunningAgent {
  serverId: string;
  pool: string;
  /** The node gateway, null when the config has no `gateway` section. */
  gateway: AgentGateway | null;
  channel: ChannelClient;
  /** Stops scheduling, aborts the beat in flight, closes the channel and the gateway's connections; resolves once all settled (unbounded; see `stopWithin`). */
  stop(): Promise<void>;
}

async function startNodeGateway(config: AgentConfig, state: NodeState, deps: AgentDeps): Promise<(AgentGateway & { stop(): Promise<void> }) | null> {
  if (!config.gateway) return null;
  if (!state.assertionKey) {
    throw new StateError(`the gateway needs the assertion key from enrolment, and this node was enrolled without one: run \`agent enroll --config ${config.configPath} --token TOKEN\` again`);
  }
  const endpoints = createEndpointRegistry(staticEndpoints(config.gateway.endpoints));
  const running = await startGateway({ ...config.gateway, serverId: state.serverId, assertionKey: state.assertionKey, resolver: endpoints }, deps);
  return { ...running, endpoints };
}

/** The broker's commands this node can serve: `disconnect` needs the gateway (without one it is answered UNAVAILABLE). */
function channelHandlers(gateway: AgentGateway | null): ChannelHandlers {
  if (!gateway) return {};
  return { disconnect: async (target, reason) => ({ closed: gateway.connections.disconnect(target, reason) }) };
}

/**
 * `handlers` replace the composed command handlers (tests drive the channel without a gateway).
 * @throws StateError if the node is not enrolled or its state files are broken; GatewayError if the gateway cannot listen.
 */
export async function startAgent(config: AgentConfig, deps: AgentDeps, handlers: ChannelHandlers = {}): Promise<RunningAgent> {
  const { state, identity } = await loadEnrolment(deps.fs, config.stateDir, config.configPath);
  if (state.brokerUrl !== config.brokerUrl) {
    deps.log(`note: enrolled with ${state.brokerUrl}, now sending to ${config.brokerUrl} from the config`);
  }
  const gateway = await startNodeGateway(config, state, deps);
  const seq = new SeqCounter();
  const collect = createCollector(config, deps);
  const http = createHeartbeatClient({ brokerUrl: config.brokerUrl, identity, requestTimeoutMs: config.requestTimeoutMs, seq }, deps);
  const channel = startChannelClient(
    { brokerUrl: config.brokerUrl, identity, seq, requestTimeoutMs: config.requestTimeoutMs, maxBackoffMs: config.maxBackoffMs, handlers: { ...channelHandlers(gateway), ...handlers } },
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
    gateway,
    channel,
    stop: async () => {
      await Promise.all([loop.stop(), channel.stop(), gateway?.stop()]);
    },
  };
}
