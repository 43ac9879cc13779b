/**
 * A node's end of the control channel inside workerd tests: opens the channel through the Worker
 * with a node-signed token, records every frame, answers the broker's requests as told, and
 * sends requests of its own.
 */
import { CHANNEL_AUDIENCE } from "../../../src/protocol.ts";
import { call, type SignOptions, signBeat, type TestNode } from "../helpers.ts";

export type Answer = { result: unknown } | { error: { code: string; message: string } } | "silent";

export interface ChannelClose {
  code: number;
  reason: string;
}

/** A node-signed token for the channel upgrade (`bh` over no bytes). */
export function channelToken(node: TestNode, options: SignOptions = {}): Promise<string> {
  return signBeat(node, "", { aud: CHANNEL_AUDIENCE, ...options });
}

/** Sends the upgrade; the response, with its WebSocket when it is a 101. */
export async function upgradeChannel(token: string | null, headers: Record<string, string> = { Upgrade: "websocket" }): Promise<Response> {
  return call("/v1/agent/channel", { headers: { ...headers, ...(token === null ? {} : { Authorization: `Bearer ${token}` }) } });
}

export class FakeAgent {
  readonly ws: WebSocket;
  /** Every text frame received, parsed where it is JSON. */
  readonly received: unknown[] = [];
  readonly closed: Promise<ChannelClose>;
  /** How to answer each broker method; absent: a valid result (`ping`: now, `disconnect`: none closed). */
  answers: Record<string, Answer> = {};
  static readonly #open = new Set<FakeAgent>();
  #nextId = 1;
  #waiters: Array<() => void> = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.accept();
    this.closed = new Promise((resolve) => ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })));
    ws.addEventListener("message", (event) => {
      const text = typeof event.data === "string" ? event.data : "";
      let message: unknown = text;
      try {
        message = JSON.parse(text);
      } catch {
        // Not JSON (the keepalive's `pong`): kept as text.
      }
      this.received.push(message);
      this.#answer(message);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Opens a channel for `node` (a fresh token unless one is given); throws unless the broker accepts it. */
  static async open(node: TestNode, token?: string): Promise<FakeAgent> {
    const response = await upgradeChannel(token ?? (await channelToken(node)));
    if (response.status !== 101 || !response.webSocket) throw new Error(`channel: ${response.status} ${await response.text()}`);
    const agent = new FakeAgent(response.webSocket);
    FakeAgent.#open.add(agent);
    return agent;
  }

  /** Closes every channel `open` opened (call after each test, so the next one starts with none). */
  static closeAll(): void {
    for (const agent of FakeAgent.#open) {
      try {
        agent.ws.close(1000, "test done");
      } catch {
        // Closed by the broker already.
      }
    }
    FakeAgent.#open.clear();
  }

  /** Sends a request of the agent's own; returns its id. */
  request(method: string, params: unknown): number {
    const id = this.#nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return id;
  }

  /** Waits until a received message satisfies `match` (bounded). */
  async waitFor<T>(match: (message: unknown) => message is T, timeoutMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.received).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** The response to the agent's request `id`. */
  responseTo(id: number | null): Promise<{ id: number | null; ok: boolean; result?: unknown; error?: { code: string; message: string } }> {
    return this.waitFor((message): message is { id: number | null; ok: boolean } => typeof message === "object" && message !== null && "ok" in message && (message as unknown as { id: unknown }).id === id);
  }

  #answer(message: unknown): void {
    if (typeof message !== "object" || message === null || !("method" in message)) return;
    const { id, method } = message as { id: number; method: string };
    const answer = this.answers[method] ?? { result: method === "disconnect" ? { closed: 0 } : { nowMs: Date.now() } };
    if (answer === "silent") return;
    this.ws.send(JSON.stringify("result" in answer ? { id, ok: true, result: answer.result } : { id, ok: false, error: answer.error }));
  }
}
