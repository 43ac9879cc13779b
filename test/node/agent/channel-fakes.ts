/** Fakes for the channel client's tests: timers fired by hand, and a broker that accepts or refuses sockets as told. */
import type { ChannelSocket, OpenSocket, SocketEvents } from "../../../agent/channel/socket.ts";

/** Timers that only run when the test fires them; every requested delay is recorded. */
export class ManualTimers {
  readonly delays: number[] = [];
  #nextId = 1;
  readonly #pending = new Map<number, { callback: () => void; delayMs: number }>();

  setTimer = (callback: () => void, delayMs: number): unknown => {
    const id = this.#nextId++;
    this.delays.push(delayMs);
    this.#pending.set(id, { callback, delayMs });
    return id;
  };

  clearTimer = (handle: unknown): void => {
    this.#pending.delete(handle as number);
  };

  /** Delays of the timers still pending, in the order they were set. */
  get pending(): number[] {
    return [...this.#pending.values()].map((timer) => timer.delayMs);
  }

  /** Runs the pending timer set with `delayMs` (the oldest such); throws if there is none. */
  fire(delayMs?: number): void {
    const entry = [...this.#pending.entries()].find(([, timer]) => delayMs === undefined || timer.delayMs === delayMs);
    if (!entry) throw new Error(`no pending timer${delayMs === undefined ? "" : ` of ${delayMs} ms`}; pending: ${this.pending.join(", ")}`);
    this.#pending.delete(entry[0]);
    entry[1].callback();
  }
}

export class FakeSocket implements ChannelSocket {
  readonly sent: string[] = [];
  closedWith: { code: number; reason: string } | null = null;
  terminated = false;
  readonly events: SocketEvents;

  constructor(events: SocketEvents) {
    this.events = events;
  }

  send(text: string): void {
    if (this.closedWith || this.terminated) throw new Error("closed");
    this.sent.push(text);
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }

  terminate(): void {
    this.terminated = true;
    this.events.close(1006, "");
  }

  /** The broker sends a frame. */
  deliver(data: string | Uint8Array | object): void {
    this.events.message(typeof data === "string" || data instanceof Uint8Array ? data : JSON.stringify(data));
  }

  /** The messages the agent sent, parsed (the keepalive's text is kept as is). */
  get messages(): unknown[] {
    return this.sent.map((text) => {
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    });
  }
}

/** A broker for `openSocket`: each attempt is answered by `answer` (default: accept). */
export class FakeBroker {
  readonly attempts: Array<{ url: string; headers: Record<string, string> }> = [];
  readonly sockets: FakeSocket[] = [];
  answer: (attempt: number) => "accept" | Error = () => "accept";

  openSocket: OpenSocket = async (url, headers, events) => {
    this.attempts.push({ url, headers });
    const answer = this.answer(this.attempts.length - 1);
    if (answer !== "accept") throw answer;
    const socket = new FakeSocket(events);
    this.sockets.push(socket);
    return socket;
  };

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error("no socket opened");
    return socket;
  }
}
