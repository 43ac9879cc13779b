/**
 * `startAgent`: loads the enrolment, starts the node gateway and the session manager when the
 * config has them, opens the control channel and runs the heartbeat loop until `stop()` (beats go
 * on the channel while it is open, over HTTP otherwise: beat-sender.ts). This is the agent's one
 * composition root: `main.ts run` calls it, and so do integration tests with real or fake
 * dependencies. The channel's commands reach the gateway (`disconnect`) and the launchers
 * (`start`, `terminate`).
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
import { launchHandlers, reportedSessions } from "./launch/channel-handlers.ts";
import type { LaunchDeps } from "./launch/launch-deps.ts";
import { type SessionManager, startSessionManager } from "./launch/session-manager.ts";
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
  /** The launched sessions, null when the config has no `launchers` section. */
  sessions: SessionManager | null;
  channel: ChannelClient;
  /** Stops scheduling, aborts the beat in flight, closes the channel and the gateway's connections; resolves once all settled (unbounded; see `stopWithin`). Desktops keep running. */
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

async function startLaunching(config: AgentConfig, state: NodeState, launch: LaunchDeps | undefined, gateway: AgentGateway | null, onChange: () => void): Promise<SessionManager | null> {
  if (!config.launchers) return null;
  if (!launch) throw new StateError("the config has a launchers section, but the agent was started without launch dependencies");
  return startSessionManager(
    { config: config.launchers, stateDir: config.stateDir, node: { serverId: state.serverId, hostname: config.hostname }, gateway, onEvent: onChange },
    launch,
  );
}

export interface StartAgentOptions {
  /** What launching needs (processes, launcher files); required when the config has `launchers`. */
  launch?: LaunchDeps;
  /** Replace the composed command handlers (tests drive the channel without a gateway). */
  handlers?: ChannelHandlers;
}

/** @throws StateError if the node is not enrolled or its state files are broken; GatewayError if the gateway cannot listen. */
export async function startAgent(config: AgentConfig, deps: AgentDeps, options: StartAgentOptions = {}): Promise<RunningAgent> {
  const { state, identity } = await loadEnrolment(deps.fs, config.stateDir, config.configPath);
  if (state.brokerUrl !== config.brokerUrl) {
    deps.log(`note: enrolled with ${state.brokerUrl}, now sending to ${config.brokerUrl} from the config`);
  }
  const gateway = await startNodeGateway(config, state, deps);
  // A launched session that starts running, fails or ends is reported with the next beat, sent at once.
  let beatSoon = () => {};
  const sessions = await startLaunching(config, state, options.launch, gateway, () => beatSoon());
  const seq = new SeqCounter();
  const collect = createCollector(config, deps, sessions ? () => reportedSessions(sessions) : undefined);
  const http = createHeartbeatClient({ brokerUrl: config.brokerUrl, identity, requestTimeoutMs: config.requestTimeoutMs, seq }, deps);
  const composed: ChannelHandlers = {
    ...(gateway ? { disconnect: async (target, reason) => ({ closed: gateway.connections.disconnect(target, reason) }) } : {}),
    ...(sessions ? launchHandlers(sessions, () => beatSoon()) : {}),
  };
  const channel = startChannelClient(
    { brokerUrl: config.brokerUrl, identity, seq, requestTimeoutMs: config.requestTimeoutMs, maxBackoffMs: config.maxBackoffMs, handlers: { ...composed, ...options.handlers } },
    deps,
  );
  const send = createBeatSender(channel, http, deps);
  const loop = startHeartbeatLoop({ intervalMs: state.intervalMs, maxBackoffMs: config.maxBackoffMs, beat: async (signal) => send(await collect(signal), signal) }, deps);
  beatSoon = () => loop.beatSoon();
  deps.log(`agent running as ${state.serverId} in pool ${state.pool}, sending to ${config.brokerUrl}${sessions ? `, launchers in ${config.launchers?.dir}` : ""}`);
  return {
    serverId: state.serverId,
    pool: state.pool,
    gateway,
    sessions,
    channel,
    stop: async () => {
      await Promise.all([loop.stop(), channel.stop(), gateway?.stop(), sessions?.close()]);
    },
  };
}
