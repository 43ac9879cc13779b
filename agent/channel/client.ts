/**
 * The agent's control channel (decision 8): one outbound WebSocket to its pool's Durable Object,
 * opened with a node-signed token (`broker:channel`), kept alive with the `ping` text the broker's
 * runtime answers, and opened again after every close or failure:
 * - after a close or a failed attempt: full-jitter backoff, uniform in
 *   [0, min(maxBackoffMs, CHANNEL_RECONNECT_BASE_MS · 2^(n−1))] for the n-th failure in a row (a
 *   channel that stayed open CHANNEL_STABLE_MS resets n), so the agents of a pool whose object
 *   restarted (eviction, deploy) come back spread over the window instead of in a herd;
 * - the key refused (401/403), or closed as replaced, removed or re-keyed: about `maxBackoffMs`
 *   (nothing changes until an operator acts);
 * - 409 HEARTBEAT_STALE: the sequence is bumped and the next attempt is the first of a backoff.
 * A keepalive unanswered within `requestTimeoutMs` drops the connection (the broker is gone).
 */
import { CHANNEL_CLOSE, CHANNEL_KEEPALIVE_INTERVAL_MS, CHANNEL_KEEPALIVE_REQUEST, type AgentMethod, type AgentResult, type ChannelError, fitsChannel } from "../../src/channel-protocol.ts";
import { err, type Result } from "../../src/core/result.ts";
import { AGENT_PATHS } from "../../src/protocol.ts";
import { fullJitterBackoffMs, nearCapDelayMs } from "../backoff.ts";
import { type AgentDeps, errorMessage } from "../deps.ts";
import { brokerEndpoint } from "../heartbeat-client.ts";
import { type NodeIdentity, type SeqCounter, signChannelToken } from "../token.ts";
import { type AgentParams, type ChannelHandlers, ChannelPeer } from "./peer.ts";
import { type ChannelSocket, UpgradeRefused } from "./socket.ts";

/** The first reconnect window after a healthy channel closed; it doubles with each failure in a row. */
export const CHANNEL_RECONNECT_BASE_MS = 1_000;
/** A channel open this long was healthy: its close starts the backoff afresh. */
export const CHANNEL_STABLE_MS = 10_000;

/** Closes after which reconnecting soon cannot help. */
const SLOW_RETRY_CODES: ReadonlySet<number> = new Set([CHANNEL_CLOSE.replaced, CHANNEL_CLOSE.removed, CHANNEL_CLOSE.rekeyed]);

export interface ChannelClientOptions {
  brokerUrl: string;
  identity: NodeIdentity;
  /** Shared with the heartbeat client: the broker accepts each seq once, whatever request spent it. */
  seq: SeqCounter;
  /** Bound on opening the channel, on each request and on each keepalive. */
  requestTimeoutMs: number;
  maxBackoffMs: number;
  handlers: ChannelHandlers;
  /** Keepalive period, ms (default CHANNEL_KEEPALIVE_INTERVAL_MS). */
  keepaliveMs?: number;
}

export type ChannelClientDeps = Pick<AgentDeps, "openSocket" | "setTimer" | "clearTimer" | "now" | "random" | "log">;

export interface ChannelClient {
  /** Whether the channel is open now. */
  readonly connected: boolean;
  /** Sends a request on the channel; NOT_CONNECTED at once when it is down. */
  request<M extends AgentMethod>(method: M, params: AgentParams<M>): Promise<Result<AgentResult<M>, ChannelError>>;
  /** Stops reconnecting, closes the channel (1001) and resolves once any attempt in flight settled. */
  stop(): Promise<void>;
}

interface Connection {
  socket: ChannelSocket;
  peer: ChannelPeer;
  openedAtMs: number;
  keepalive: unknown;
}

/** Starts connecting at once (on the next timer turn). */
export function startChannelClient(options: ChannelClientOptions, deps: ChannelClientDeps): ChannelClient {
  const url = brokerEndpoint(options.brokerUrl, AGENT_PATHS.channel);
  const baseMs = Math.min(CHANNEL_RECONNECT_BASE_MS, options.maxBackoffMs);
  const keepaliveMs = options.keepaliveMs ?? CHANNEL_KEEPALIVE_INTERVAL_MS;
  const controller = new AbortController();
  let current: Connection | null = null;
  let failures = 0;
  let stopped = false;
  let timer: unknown = null;
  let attempt: Promise<void> | null = null;

  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const backoff = () => fullJitterBackoffMs(failures++, baseMs, options.maxBackoffMs, deps.random);

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = deps.setTimer(() => {
      timer = null;
      attempt = connect().finally(() => {
        attempt = null;
      });
    }, delayMs);
  };

  /** The delay after an attempt that did not open. */
  const afterFailedOpen = (error: unknown): number => {
    if (error instanceof UpgradeRefused && (error.status === 401 || error.status === 403)) {
      const delayMs = nearCapDelayMs(options.maxBackoffMs, deps.random);
      deps.log(`channel refused with HTTP ${error.status}: the broker does not accept this node's key (node removed, or re-keyed); retrying in ${seconds(delayMs)}`);
      return delayMs;
    }
    if (error instanceof UpgradeRefused && error.status === 409 && error.code === "HEARTBEAT_STALE") {
      options.seq.bump();
      return backoff();
    }
    const delayMs = backoff();
    deps.log(`channel failed to open (attempt ${failures}): ${errorMessage(error)}; retrying in ${seconds(delayMs)}`);
    return delayMs;
  };

  /** The delay after an open channel closed. */
  const afterClose = (connection: Connection, code: number, reason: string): number => {
    if (deps.now() - connection.openedAtMs >= CHANNEL_STABLE_MS) failures = 0;
    const delayMs = SLOW_RETRY_CODES.has(code) ? nearCapDelayMs(options.maxBackoffMs, deps.random) : backoff();
    deps.log(`channel closed (${code}${reason ? ` ${reason}` : ""}); reconnecting in ${seconds(delayMs)}`);
    return delayMs;
  };

  const keepAlive = (connection: Connection) => {
    connection.keepalive = deps.setTimer(() => {
      if (current !== connection) return;
      connection.keepalive = deps.setTimer(() => {
        deps.log(`channel keepalive unanswered for ${options.requestTimeoutMs} ms; dropping the connection`);
        connection.socket.terminate();
      }, options.requestTimeoutMs);
      try {
        connection.socket.send(CHANNEL_KEEPALIVE_REQUEST);
      } catch {
        // Closing; the close event reconnects.
      }
    }, keepaliveMs);
  };

  const connect = async (): Promise<void> => {
    let connection: Connection | null = null;
    const peer = new ChannelPeer(
      {
        send: (text) => {
          if (!connection || current !== connection) throw new Error("the channel is closed");
          connection.socket.send(text);
        },
        handlers: options.handlers,
        requestTimeoutMs: options.requestTimeoutMs,
        onKeepalive: () => {
          if (!connection || current !== connection) return;
          deps.clearTimer(connection.keepalive);
          keepAlive(connection);
        },
        now: deps.now,
        log: deps.log,
      },
      deps,
    );
    const events = {
      message: (data: string | Uint8Array) => {
        if (!connection || current !== connection) return;
        if (typeof data !== "string") return connection.socket.close(CHANNEL_CLOSE.unsupportedData, "the channel takes JSON text frames");
        if (!fitsChannel(data)) return connection.socket.close(CHANNEL_CLOSE.tooBig, "message too large");
        peer.receive(data);
      },
      close: (code: number, reason: string) => {
        if (!connection || current !== connection) return;
        current = null;
        deps.clearTimer(connection.keepalive);
        peer.failAll({ code: "NOT_CONNECTED", message: `the channel closed (${code})` });
        if (!stopped) schedule(afterClose(connection, code, reason));
      },
    };
    let socket: ChannelSocket;
    try {
      const nowMs = deps.now();
      const token = await signChannelToken(options.identity, options.seq.next(nowMs), nowMs);
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(options.requestTimeoutMs)]);
      socket = await deps.openSocket(url, { Authorization: `Bearer ${token}` }, events, signal);
    } catch (error) {
      if (!stopped) schedule(afterFailedOpen(error));
      return;
    }
    if (stopped) return socket.close(CHANNEL_CLOSE.goingAway, "agent stopping");
    connection = { socket, peer, openedAtMs: deps.now(), keepalive: null };
    current = connection;
    options.seq.accepted();
    deps.log(`channel open${failures > 0 ? ` after ${failures} failed attempt(s)` : ""}`);
    keepAlive(connection);
  };

  schedule(0);

  return {
    get connected() {
      return current !== null;
    },
    async request(method, params) {
      if (!current) return err({ code: "NOT_CONNECTED", message: "the channel is not open" });
      return current.peer.request(method, params);
    },
    async stop() {
      stopped = true;
      if (timer !== null) deps.clearTimer(timer);
      timer = null;
      controller.abort(new Error("agent is shutting down"));
      await attempt;
      const connection = current;
      current = null;
      if (!connection) return;
      deps.clearTimer(connection.keepalive);
      connection.peer.failAll({ code: "NOT_CONNECTED", message: "the agent is stopping" });
      connection.socket.close(CHANNEL_CLOSE.goingAway, "agent stopping");
    },
  };
}
