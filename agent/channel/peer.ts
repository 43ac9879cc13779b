/**
 * Request/response on one open channel, the agent's side: sends the agent's requests and matches
 * the broker's answers (each bounded by `requestTimeoutMs`, at most MAX_PENDING_CHANNEL_REQUESTS
 * unanswered), and answers the broker's requests through the injected handlers (at most
 * MAX_PENDING_CHANNEL_REQUESTS at once). A frame it cannot read gets an error response and
 * changes nothing. Side effects are injected: `send` and the timers.
 */
import {
  type AgentMethod,
  type AgentRequest,
  type AgentResult,
  agentResultSchemas,
  BROKER_METHODS,
  type BrokerRequest,
  brokerRequestSchema,
  CHANNEL_KEEPALIVE_RESPONSE,
  type ChannelError,
  type ChannelResponse,
  type DisconnectTarget,
  MAX_PENDING_CHANNEL_REQUESTS,
  parseChannelMessage,
  type StartRequest,
  type StartResult,
} from "../../src/channel-protocol.ts";
import { err, ok, type Result } from "../../src/core/result.ts";
import { errorMessage, type Timers } from "../deps.ts";

/** What the agent does for the broker's commands; the node gateway provides them (the lead wires it). */
export interface ChannelHandlers {
  /**
   * Ends the live relayed connections matching `target` (close code 4000 with `reason` to each
   * client); resolves with how many it closed. Absent: `disconnect` is answered UNAVAILABLE.
   */
  disconnect?(target: DisconnectTarget, reason: string): Promise<{ closed: number }>;
  /** Runs the profile's launcher for a placed session (the node's session manager). Absent: UNAVAILABLE. */
  start?(request: StartRequest): Promise<Result<StartResult, ChannelError>>;
  /** Ends a launched session. Absent: UNAVAILABLE. */
  terminate?(sessionId: string, reason: string): Promise<Result<Record<string, never>, ChannelError>>;
}

export type AgentParams<M extends AgentMethod> = Extract<AgentRequest, { method: M }>["params"];

interface Pending {
  method: AgentMethod;
  settle: (outcome: Result<unknown, ChannelError>) => void;
  timer: unknown;
}

export interface PeerOptions {
  send: (text: string) => void;
  handlers: ChannelHandlers;
  requestTimeoutMs: number;
  /** The keepalive's answer arrived. */
  onKeepalive: () => void;
  /** Wall clock in epoch ms (the answer to the broker's ping). */
  now: () => number;
  log: (line: string) => void;
}

export class ChannelPeer {
  readonly #options: PeerOptions;
  readonly #timers: Timers;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #serving = 0;

  constructor(options: PeerOptions, timers: Timers) {
    this.#options = options;
    this.#timers = timers;
  }

  /** Sends one request to the broker and waits for its answer. Never throws. */
  async request<M extends AgentMethod>(method: M, params: AgentParams<M>): Promise<Result<AgentResult<M>, ChannelError>> {
    if (this.#pending.size >= MAX_PENDING_CHANNEL_REQUESTS) return err({ code: "TOO_MANY_PENDING", message: `${this.#pending.size} requests are unanswered` });
    const id = this.#nextId++;
    const timeoutMs = this.#options.requestTimeoutMs;
    const answer = new Promise<Result<unknown, ChannelError>>((settle) => {
      const timer = this.#timers.setTimer(() => this.#settle(id, err({ code: "TIMEOUT", message: `the broker did not answer ${method} within ${timeoutMs} ms` })), timeoutMs);
      this.#pending.set(id, { method, settle, timer });
    });
    try {
      this.#options.send(JSON.stringify({ id, method, params }));
    } catch (error) {
      this.#settle(id, err({ code: "NOT_CONNECTED", message: errorMessage(error) }));
    }
    const outcome = await answer;
    if (!outcome.ok) return outcome;
    const result = agentResultSchemas[method].safeParse(outcome.value);
    return result.success ? ok(result.data as AgentResult<M>) : err({ code: "BAD_MESSAGE", message: `the broker answered ${method} with an invalid result` });
  }

  /** One text frame from the broker (binary frames and size are the caller's: it closes the channel). */
  receive(text: string): void {
    if (text === CHANNEL_KEEPALIVE_RESPONSE) return this.#options.onKeepalive();
    const message = parseChannelMessage(text, brokerRequestSchema, BROKER_METHODS);
    if (message.kind === "invalid") {
      this.#options.log(`channel: refused a message from the broker: ${message.error.code}: ${message.error.message}`);
      return this.#respond({ id: message.id, ok: false, error: message.error });
    }
    if (message.kind === "response") {
      const { response } = message;
      if (response.id !== null && this.#pending.has(response.id)) return this.#settle(response.id, response.ok ? ok(response.result) : err(response.error));
      if (!response.ok) this.#options.log(`channel: the broker refused a message: ${response.error.code}: ${response.error.message}`);
      return;
    }
    void this.#serve(message.request);
  }

  /** The channel is gone: every pending request fails with `error`. */
  failAll(error: ChannelError): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, err(error));
  }

  async #serve(request: BrokerRequest): Promise<void> {
    if (this.#serving >= MAX_PENDING_CHANNEL_REQUESTS) {
      return this.#respond({ id: request.id, ok: false, error: { code: "TOO_MANY_PENDING", message: `${this.#serving} requests are being handled` } });
    }
    this.#serving++;
    try {
      const outcome = await this.#handle(request);
      this.#respond(outcome.ok ? { id: request.id, ok: true, result: outcome.value } : { id: request.id, ok: false, error: outcome.error });
    } finally {
      this.#serving--;
    }
  }

  async #handle(request: BrokerRequest): Promise<Result<unknown, ChannelError>> {
    const { handlers } = this.#options;
    switch (request.method) {
      case "ping":
        return ok({ nowMs: Math.floor(this.#options.now()) });
      case "disconnect": {
        const disconnect = handlers.disconnect;
        if (!disconnect) return err({ code: "UNAVAILABLE", message: "this agent serves no relayed connections (no gateway)" });
        return this.#guard("disconnect", async () => ok(await disconnect(request.params.target, request.params.reason)));
      }
      case "start": {
        const start = handlers.start;
        if (!start) return err({ code: "UNAVAILABLE", message: "this agent launches no sessions (no launchers section)" });
        return this.#guard("start", () => start(request.params));
      }
      case "terminate": {
        const terminate = handlers.terminate;
        if (!terminate) return err({ code: "UNAVAILABLE", message: "this agent launches no sessions (no launchers section)" });
        return this.#guard("terminate", () => terminate(request.params.sessionId, request.params.reason));
      }
    }
  }

  /** A handler that throws answers FAILED with its message; the channel goes on. */
  async #guard(method: string, run: () => Promise<Result<unknown, ChannelError>>): Promise<Result<unknown, ChannelError>> {
    try {
      return await run();
    } catch (error) {
      this.#options.log(`channel: ${method} failed: ${errorMessage(error)}`);
      return err({ code: "FAILED", message: `${method} failed: ${errorMessage(error)}`.slice(0, 1024) });
    }
  }

  #respond(response: ChannelResponse): void {
    try {
      this.#options.send(JSON.stringify(response));
    } catch {
      // The channel closed meanwhile; the client reconnects.
    }
  }

  #settle(id: number, outcome: Result<unknown, ChannelError>): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    this.#timers.clearTimer(pending.timer);
    pending.settle(outcome);
  }
}
