/**
 * The pool object's control channels (decision 8), on the WebSocket Hibernation API: each node's
 * socket is accepted with its serverId as tag and an attachment naming the key it was opened
 * with, so the object can sleep while agents stay connected and find them again when it wakes.
 *
 * The hub sends the broker's requests and matches the answers (bounded: a timeout per request,
 * MAX_PENDING_CHANNEL_REQUESTS per node), and answers the agent's requests through `handle`.
 * A frame from a node that is too large closes its channel (1009); one that is not JSON, not a
 * known method or not its shape gets an error response and changes nothing. Pending requests live
 * in memory only: the object stays awake while it waits for an answer.
 */
import { log } from "../core/log.ts";
import { err, ok, type Result } from "../core/result.ts";
import {
  AGENT_METHODS,
  type AgentRequest,
  agentRequestSchema,
  type BrokerMethod,
  type BrokerRequest,
  type BrokerResult,
  brokerResultSchemas,
  CHANNEL_CLOSE,
  CHANNEL_REQUEST_TIMEOUT_MS,
  CHANNEL_STALE_AFTER_MS,
  type ChannelError,
  type ChannelResponse,
  fitsChannel,
  MAX_CHANNEL_MESSAGE_BYTES,
  MAX_PENDING_CHANNEL_REQUESTS,
  parseChannelMessage,
} from "../channel-protocol.ts";

/** The part of the object's state the hub uses: the Hibernation API. */
export type ChannelState = Pick<DurableObjectState, "acceptWebSocket" | "getWebSockets" | "getWebSocketAutoResponseTimestamp">;

/** Kept with each socket (`serializeAttachment`, survives hibernation). */
interface ChannelAttachment {
  serverId: string;
  /** The node's public key as stored when the channel opened: a later key closes the channel. */
  publicKeyJwk: string;
  openedAtMs: number;
}

/** The parameters of one broker request, by method. */
export type BrokerParams<M extends BrokerMethod> = Extract<BrokerRequest, { method: M }>["params"];

/** Answers an agent's request (already validated); the error goes back on the wire. */
export type AgentRequestHandler = (serverId: string, request: AgentRequest) => Promise<Result<unknown, ChannelError>>;

interface Pending {
  serverId: string;
  method: BrokerMethod;
  settle: (outcome: Result<unknown, ChannelError>) => void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

function attachmentOf(ws: WebSocket): ChannelAttachment | null {
  const value: unknown = ws.deserializeAttachment();
  return value && typeof value === "object" && "serverId" in value ? (value as ChannelAttachment) : null;
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Closed already.
  }
}

export class ChannelHub {
  readonly #state: ChannelState;
  readonly #handle: AgentRequestHandler;
  readonly #pending = new Map<number, Pending>();
  /** Agent requests being handled, per node: at most MAX_PENDING_CHANNEL_REQUESTS at once. */
  readonly #serving = new Map<string, number>();
  /** Starts at random, so an answer meant for a request of an earlier incarnation matches nothing. */
  #nextId = 1 + Math.floor(Math.random() * 2 ** 40);

  constructor(state: ChannelState, handle: AgentRequestHandler) {
    this.#state = state;
    this.#handle = handle;
  }

  /** Accepts a verified node's channel and returns the client end; an older channel of the node is closed (4001). */
  accept(serverId: string, publicKeyJwk: string, nowMs: number): WebSocket {
    this.close(serverId, CHANNEL_CLOSE.replaced, "replaced by a newer channel from this node");
    const { 0: client, 1: server } = new WebSocketPair();
    this.#state.acceptWebSocket(server, [serverId]);
    server.serializeAttachment({ serverId, publicKeyJwk, openedAtMs: nowMs } satisfies ChannelAttachment);
    return client;
  }

  /** Closes a node's channel (removed, re-keyed, replaced) and fails its pending requests. */
  close(serverId: string, code: number, reason: string): void {
    for (const ws of this.#state.getWebSockets(serverId)) closeQuietly(ws, code, reason);
    this.#failPending(serverId, { code: "NOT_CONNECTED", message: `the channel closed: ${reason}` });
  }

  /** The nodes whose channel is open and kept alive now. */
  connected(nowMs: number): Set<string> {
    const ids = new Set<string>();
    for (const ws of this.#state.getWebSockets()) {
      const attachment = attachmentOf(ws);
      if (attachment && this.#live(ws, attachment, nowMs)) ids.add(attachment.serverId);
    }
    return ids;
  }

  /** Sends `method` to a node and waits for its answer, at most `timeoutMs`. Never throws. */
  async request<M extends BrokerMethod>(serverId: string, method: M, params: BrokerParams<M>, nowMs: number, timeoutMs = CHANNEL_REQUEST_TIMEOUT_MS): Promise<Result<BrokerResult<M>, ChannelError>> {
    const ws = this.#socketOf(serverId, nowMs);
    if (!ws) return err({ code: "NOT_CONNECTED", message: `${serverId} has no control channel` });
    const waiting = [...this.#pending.values()].filter((entry) => entry.serverId === serverId).length;
    if (waiting >= MAX_PENDING_CHANNEL_REQUESTS) return err({ code: "TOO_MANY_PENDING", message: `${waiting} requests to ${serverId} are still unanswered` });
    const id = this.#nextId++;
    const answer = new Promise<Result<unknown, ChannelError>>((settle) => {
      const timer = setTimeout(() => this.#settle(id, err({ code: "TIMEOUT", message: `${serverId} did not answer ${method} within ${timeoutMs} ms` })), timeoutMs);
      this.#pending.set(id, { serverId, method, settle, timer });
    });
    try {
      ws.send(JSON.stringify({ id, method, params }));
    } catch (error) {
      this.#settle(id, err({ code: "NOT_CONNECTED", message: `sending to ${serverId} failed: ${error instanceof Error ? error.message : String(error)}` }));
    }
    const outcome = await answer;
    if (!outcome.ok) return outcome;
    const result = brokerResultSchemas[method].safeParse(outcome.value);
    if (!result.success) return err({ code: "BAD_MESSAGE", message: `${serverId} answered ${method} with an invalid result` });
    return ok(result.data as BrokerResult<M>);
  }

  /**
   * One frame from a node. `currentKey` is the node's key now (null: no longer in the pool): a
   * channel opened with another key is closed instead of being served.
   */
  async receive(ws: WebSocket, frame: string | ArrayBuffer, currentKey: (serverId: string) => string | null): Promise<void> {
    const attachment = attachmentOf(ws);
    if (!attachment) return closeQuietly(ws, CHANNEL_CLOSE.removed, "unknown channel");
    const key = currentKey(attachment.serverId);
    if (key !== attachment.publicKeyJwk) {
      return key === null ? this.close(attachment.serverId, CHANNEL_CLOSE.removed, "node removed") : closeQuietly(ws, CHANNEL_CLOSE.rekeyed, "node re-keyed");
    }
    if (!fitsChannel(frame)) return closeQuietly(ws, CHANNEL_CLOSE.tooBig, `messages are limited to ${MAX_CHANNEL_MESSAGE_BYTES} bytes`);
    if (typeof frame !== "string") return closeQuietly(ws, CHANNEL_CLOSE.unsupportedData, "the channel takes JSON text frames");
    const message = parseChannelMessage(frame, agentRequestSchema, AGENT_METHODS);
    if (message.kind === "response") return this.#answered(attachment.serverId, message.response);
    if (message.kind === "invalid") {
      log.warn(`channel of ${attachment.serverId}: ${message.error.code}: ${message.error.message}`);
      return send(ws, { id: message.id, ok: false, error: message.error });
    }
    const outcome = await this.#serve(attachment.serverId, message.request);
    const { id } = message.request;
    send(ws, outcome.ok ? { id, ok: true, result: outcome.value } : { id, ok: false, error: outcome.error });
  }

  /** The runtime reports a channel closed or broken: its pending requests fail at once. */
  closed(ws: WebSocket, reason: string): void {
    const attachment = attachmentOf(ws);
    if (!attachment) return;
    // A replacement channel of the same node may be open already: only fail when none is left.
    const open = this.#state.getWebSockets(attachment.serverId).some((other) => other !== ws && other.readyState === OPEN);
    if (!open) this.#failPending(attachment.serverId, { code: "NOT_CONNECTED", message: `the channel closed: ${reason}` });
  }

  async #serve(serverId: string, request: AgentRequest): Promise<Result<unknown, ChannelError>> {
    const serving = this.#serving.get(serverId) ?? 0;
    if (serving >= MAX_PENDING_CHANNEL_REQUESTS) return err({ code: "TOO_MANY_PENDING", message: `${serving} requests of this node are being handled` });
    this.#serving.set(serverId, serving + 1);
    try {
      return await this.#handle(serverId, request);
    } catch (error) {
      log.error(`channel of ${serverId}: ${request.method} failed`, error);
      return err({ code: "FAILED", message: `${request.method} failed` });
    } finally {
      const left = (this.#serving.get(serverId) ?? 1) - 1;
      if (left > 0) this.#serving.set(serverId, left);
      else this.#serving.delete(serverId);
    }
  }

  #live(ws: WebSocket, attachment: ChannelAttachment, nowMs: number): boolean {
    if (ws.readyState !== OPEN) return false;
    const lastKeepaliveMs = this.#state.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? attachment.openedAtMs;
    return nowMs - Math.max(lastKeepaliveMs, attachment.openedAtMs) <= CHANNEL_STALE_AFTER_MS;
  }

  /** The node's open channel; one without a keepalive for too long is closed (the agent is gone). */
  #socketOf(serverId: string, nowMs: number): WebSocket | null {
    for (const ws of this.#state.getWebSockets(serverId)) {
      const attachment = attachmentOf(ws);
      if (!attachment || ws.readyState !== OPEN) continue;
      if (this.#live(ws, attachment, nowMs)) return ws;
      closeQuietly(ws, CHANNEL_CLOSE.stale, `no keepalive for ${CHANNEL_STALE_AFTER_MS} ms`);
    }
    return null;
  }

  #answered(serverId: string, response: ChannelResponse): void {
    const pending = response.id === null ? undefined : this.#pending.get(response.id);
    if (!pending || pending.serverId !== serverId) {
      if (!response.ok) log.warn(`channel of ${serverId}: the agent refused a message: ${response.error.code}: ${response.error.message}`);
      return;
    }
    this.#settle(response.id as number, response.ok ? ok(response.result) : err(response.error));
  }

  #settle(id: number, outcome: Result<unknown, ChannelError>): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.settle(outcome);
  }

  #failPending(serverId: string, error: ChannelError): void {
    for (const [id, pending] of this.#pending) if (pending.serverId === serverId) this.#settle(id, err(error));
  }
}

function send(ws: WebSocket, response: ChannelResponse): void {
  try {
    ws.send(JSON.stringify(response));
  } catch {
    // The channel closed meanwhile; the runtime reports it through webSocketClose.
  }
}
