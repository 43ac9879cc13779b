/**
 * What the pool object does with its nodes' control channels: admits them (channel-admission.ts),
 * closes them when a node is removed or re-keyed, answers the agent's own requests (ping, a
 * heartbeat on the channel) and sends the broker's commands (ping with its round trip,
 * disconnect on one node or on every connected node). Transport and bounds: channel-hub.ts.
 */
import { err, ok, type Result } from "../core/result.ts";
import {
  CHANNEL_CLOSE,
  CHANNEL_KEEPALIVE_REQUEST,
  CHANNEL_KEEPALIVE_RESPONSE,
  type ChannelError,
  type DisconnectTarget,
  START_TIMEOUT_MS,
  type StartRequest,
  type StartResult,
} from "../channel-protocol.ts";
import type { HeartbeatBody, HeartbeatReply } from "../protocol.ts";
import { admitChannel } from "./channel-admission.ts";
import { type AgentRequestHandler, ChannelHub, type ChannelState } from "./channel-hub.ts";
import type { NodeRequests } from "./node-requests.ts";
import type { NodeAuth, NodeStore } from "./node-store.ts";
import type { CommandFailure } from "./pool-failure.ts";

/** What one `disconnect` sent to many nodes did: connections closed, and the nodes that failed. */
export interface DisconnectReport {
  /** Nodes asked (every node with a live channel). */
  nodes: number;
  /** Connections the nodes that answered closed. */
  closed: number;
  failed: Array<{ serverId: string; error: ChannelError }>;
}

export interface NodeChannelsDeps {
  nodes: NodeStore;
  requests: NodeRequests;
  /** Stores a heartbeat the node sent on its channel (no `seq`: the channel is its proof). */
  beat: (node: NodeAuth, body: HeartbeatBody) => Promise<HeartbeatReply>;
}

export class NodeChannels {
  readonly #hub: ChannelHub;
  readonly #deps: NodeChannelsDeps;

  constructor(state: ChannelState & Pick<DurableObjectState, "setWebSocketAutoResponse">, deps: NodeChannelsDeps) {
    this.#deps = deps;
    this.#hub = new ChannelHub(state, this.#answerAgent);
    // The agent's keepalive is answered by the runtime, without waking the object.
    state.setWebSocketAutoResponse(new WebSocketRequestResponsePair(CHANNEL_KEEPALIVE_REQUEST, CHANNEL_KEEPALIVE_RESPONSE));
  }

  admit(request: Request, nowMs: number): Promise<Response> {
    return admitChannel(request, { requests: this.#deps.requests, nodes: this.#deps.nodes, hub: this.#hub }, nowMs);
  }

  receive(ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
    return this.#hub.receive(ws, frame, (serverId) => this.#deps.nodes.getNodeAuth(serverId)?.publicKeyJwk ?? null);
  }

  closed(ws: WebSocket, reason: string): void {
    this.#hub.closed(ws, reason);
  }

  /**
   * Call after the node's key may have changed (re-key, removal), with the key it had before
   * (null: the node was not here): a channel opened with an old key closes at once, 4002 when the
   * node is gone, 4003 when it has a new key.
   */
  keyChanged(serverId: string, keyBefore: string | null): void {
    const keyNow = this.#deps.nodes.getNodeAuth(serverId)?.publicKeyJwk ?? null;
    if (keyNow === null) this.#hub.close(serverId, CHANNEL_CLOSE.removed, "node removed");
    else if (keyBefore !== null && keyBefore !== keyNow) this.#hub.close(serverId, CHANNEL_CLOSE.rekeyed, "node re-keyed");
  }

  connected(nowMs: number): Set<string> {
    return this.#hub.connected(nowMs);
  }

  /** A round trip over the node's channel, in ms as the object's clock sees it (whole ms). */
  async ping(serverId: string, now: () => number): Promise<Result<{ rttMs: number }, CommandFailure>> {
    if (!this.#deps.nodes.getNode(serverId)) return err("unknown-server");
    const startedMs = now();
    const answer = await this.#hub.request(serverId, "ping", {}, startedMs);
    return answer.ok ? ok({ rttMs: now() - startedMs }) : answer;
  }

  async disconnectOn(serverId: string, target: DisconnectTarget, reason: string, nowMs: number): Promise<Result<{ closed: number }, CommandFailure>> {
    if (!this.#deps.nodes.getNode(serverId)) return err("unknown-server");
    return this.#hub.request(serverId, "disconnect", { target, reason }, nowMs);
  }

  /** Asks the node to launch a placed session; waits up to START_TIMEOUT_MS for its launcher. */
  async start(serverId: string, request: StartRequest, nowMs: number): Promise<Result<StartResult, CommandFailure>> {
    if (!this.#deps.nodes.getNode(serverId)) return err("unknown-server");
    return this.#hub.request(serverId, "start", request, nowMs, START_TIMEOUT_MS);
  }

  /** Asks the node to end a launched session (its launcher may take a while to stop it). */
  async terminate(serverId: string, sessionId: string, reason: string, nowMs: number): Promise<Result<Record<string, never>, CommandFailure>> {
    if (!this.#deps.nodes.getNode(serverId)) return err("unknown-server");
    return this.#hub.request(serverId, "terminate", { sessionId, reason }, nowMs, START_TIMEOUT_MS);
  }

  /** Sends `disconnect` to every node with a live channel at once and gathers the answers (each bounded by the request timeout). */
  async disconnectEverywhere(target: DisconnectTarget, reason: string, nowMs: number): Promise<DisconnectReport> {
    const serverIds = [...this.#hub.connected(nowMs)];
    const answers = await Promise.all(serverIds.map((serverId) => this.#hub.request(serverId, "disconnect", { target, reason }, nowMs)));
    const report: DisconnectReport = { nodes: serverIds.length, closed: 0, failed: [] };
    answers.forEach((answer, index) => {
      if (answer.ok) report.closed += answer.value.closed;
      else report.failed.push({ serverId: serverIds[index] as string, error: answer.error });
    });
    return report;
  }

  /** The agent's own requests (validated, from a channel opened with the node's current key). */
  readonly #answerAgent: AgentRequestHandler = async (serverId, request) => {
    const node = this.#deps.nodes.getNodeAuth(serverId);
    if (!node) return err({ code: "UNAVAILABLE", message: "this node is no longer in the pool" });
    if (request.method === "ping") return ok({ nowMs: Date.now() });
    return ok(await this.#deps.beat(node, request.params));
  };
}
