/**
 * The node gateway (decision 9 in docs/decisions.md): this node's tunnel origin, on one loopback
 * port that cloudflared's ingress points at. Every request goes through, in order:
 * 1. a WebSocket handshake, or a plain 4xx (nothing else is served);
 * 2. the connection cap, `maxConnections` open or being admitted, else 503;
 * 3. the broker's assertion for this node (admission.ts), else 401, and no endpoint is touched;
 * 4. the endpoint of the session the assertion names (endpoint-resolver.ts), else 404 (unknown
 *    session) or 403 (another user's registered session); or, for a service assertion, the
 *    endpoint the config gives that service (`services`), else 404;
 * 5. the endpoint is opened, the upgrade completed and the two joined (tcp-bridge.ts,
 *    ws-bridge.ts). An endpoint that cannot be opened still gets the upgrade completed and the
 *    client closed with 1011 and the cause, so the client learns why rather than seeing a
 *    failed handshake.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { err, ok, type Result } from "../../src/core/result.ts";
import type { Timers } from "../deps.ts";
import { type Admit, ASSERTION_HEADER, createAdmission, refusalStatus } from "./admission.ts";
import { type Bridge, type BridgeOptions, CLOSE_GRACE_MS, closeWebSocket } from "./bridge.ts";
import { CLOSE_ENDPOINT_ERROR, CLOSE_GOING_AWAY, REASON_AGENT_STOPPING } from "./close-codes.ts";
import type { ListenAddress } from "./config.ts";
import { type OpenedEndpoint, openEndpoint } from "./connect.ts";
import { type ConnectionRegistry, createConnectionRegistry } from "./connections.ts";
import { describeEndpoint, type Endpoint } from "./endpoint.ts";
import type { EndpointResolver, ResolveFailure } from "./endpoint-resolver.ts";
import { DEFAULT_FLOW_LIMITS, type FlowLimits } from "./flow.ts";
import { handshakeProblem, offeredProtocols, refuseUpgrade } from "./handshake.ts";
import { createReplayCache, type ReplayCache } from "./replay-cache.ts";
import { bridgeTcp } from "./tcp-bridge.ts";
import { bridgeWebSocket } from "./ws-bridge.ts";

/** The subprotocol websockify selects for binary RFB when the client offers it (noVNC does). */
export const BINARY_PROTOCOL = "binary";

export interface GatewayOptions {
  /** Port 0 picks a free one (tests); `RunningGateway.address` tells which. */
  listen: ListenAddress;
  maxConnections: number;
  maxMessageBytes: number;
  connectTimeoutMs: number;
  serverId: string;
  /** This node's base64url assertion key (`node.json`). */
  assertionKey: string;
  resolver: EndpointResolver;
  /** Service name → endpoint (`ssh` → `tcp://127.0.0.1:22`): what service assertions may reach. Default none. */
  services?: Readonly<Record<string, Endpoint>>;
  flow?: FlowLimits;
  closeGraceMs?: number;
  replayCache?: ReplayCache;
}

export interface GatewayDeps extends Timers {
  /** Wall clock, epoch ms (assertion expiry). */
  now: () => number;
  log: (line: string) => void;
}

export interface RunningGateway {
  /** The address bound. */
  address: ListenAddress;
  connections: ConnectionRegistry;
  /** Stops accepting, closes every connection with 1001 "node agent stopping", settles once all are closed. */
  stop(): Promise<void>;
}

/** The gateway could not start (its address is taken, …); the message is one line for the operator. */
export class GatewayError extends Error {
  override name = "GatewayError";
}

export async function startGateway(options: GatewayOptions, deps: GatewayDeps): Promise<RunningGateway> {
  const admit: Admit = createAdmission({ serverId: options.serverId, assertionKey: options.assertionKey, replayCache: options.replayCache ?? createReplayCache() });
  const bridgeOptions: BridgeOptions = { flow: options.flow ?? DEFAULT_FLOW_LIMITS, timers: deps, closeGraceMs: options.closeGraceMs ?? CLOSE_GRACE_MS };
  const connections = createConnectionRegistry();
  /** The subprotocol chosen for each request being upgraded (ws asks through handleProtocols). */
  const chosenProtocol = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: options.maxMessageBytes,
    handleProtocols: (_offered, request) => chosenProtocol.get(request) ?? false,
  });
  let admitting = 0;
  let stopping = false;

  const server = createServer((_request, response) => {
    response.writeHead(426, { "Content-Type": "text/plain; charset=utf-8", Upgrade: "websocket", Connection: "close" });
    response.end("only WebSocket upgrades are served\n");
  });

  async function admitUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const problem = handshakeProblem(request);
    if (problem) return refuseUpgrade(socket, 400, problem);
    if (stopping) return refuseUpgrade(socket, 503, REASON_AGENT_STOPPING);
    if (connections.size + admitting >= options.maxConnections) {
      deps.log(`gateway: refused a connection: ${options.maxConnections} connections already (maxConnections)`);
      return refuseUpgrade(socket, 503, "this node carries as many connections as it may");
    }
    admitting++;
    try {
      const admitted = await admit(request.headers[ASSERTION_HEADER], deps.now());
      if (!admitted.ok) {
        deps.log(`gateway: refused a connection: assertion ${admitted.error}`);
        return refuseUpgrade(socket, refusalStatus(admitted.error), "unauthorized");
      }
      const target = admitted.value;
      const login = target.login;
      // Service connections are listed as `service:<name>`; session ids never name a service.
      const sessionId = target.kind === "session" ? target.sessionId : `service:${target.service}`;
      const resolved = target.kind === "session" ? options.resolver.resolve(target.sessionId, login) : resolveService(options.services ?? {}, target.service);
      if (!resolved.ok) {
        deps.log(`gateway: refused ${login} for ${target.kind === "session" ? "session " : ""}${sessionId}: ${resolved.error}`);
        if (resolved.error === "other-user") return refuseUpgrade(socket, 403, "forbidden");
        return refuseUpgrade(socket, 404, target.kind === "session" ? "no endpoint for this session on this node" : "no such service on this node");
      }
      const endpoint = resolved.value;
      const offered = offeredProtocols(request);
      const opened = await openEndpoint(endpoint, { timeoutMs: options.connectTimeoutMs, maxMessageBytes: options.maxMessageBytes, protocols: offered, timers: deps });
      chosenProtocol.set(request, protocolFor(endpoint, opened.ok ? opened.value : null, offered));
      let upgraded = false;
      if (!stopping && socket.writable) {
        wss.handleUpgrade(request, socket, head, (client) => {
          upgraded = true;
          if (!opened.ok) {
            deps.log(`gateway: ${login} session ${sessionId}: endpoint ${describeEndpoint(endpoint)} unreachable: ${opened.error}`);
            return closeWebSocket(client, CLOSE_ENDPOINT_ERROR, `session endpoint unreachable: ${opened.error}`, bridgeOptions);
          }
          const bridge: Bridge = opened.value.kind === "socket" ? bridgeTcp(client, opened.value.socket, bridgeOptions) : bridgeWebSocket(client, opened.value.ws, bridgeOptions);
          connections.track({ sessionId, user: login, sinceMs: deps.now(), endpoint: describeEndpoint(endpoint) }, bridge);
          deps.log(`gateway: ${login} connected to ${target.kind === "session" ? "session " : ""}${sessionId} (${describeEndpoint(endpoint)})`);
        });
      }
      // ws completes (or drops) the handshake synchronously: not upgraded means the client is gone.
      if (!upgraded) {
        if (opened.ok) closeOpened(opened.value);
        if (stopping) refuseUpgrade(socket, 503, REASON_AGENT_STOPPING);
        else socket.destroy();
      }
    } finally {
      admitting--;
    }
  }

  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A client that resets mid-handshake must not take the agent down; ws adds its own handler after the upgrade.
    socket.on("error", () => undefined);
    admitUpgrade(request, socket, head).catch((error: unknown) => {
      deps.log(`gateway: upgrade failed: ${error instanceof Error ? error.message : String(error)}`);
      socket.destroy();
    });
  });

  const address = await listen(server, options.listen);
  deps.log(`gateway listening on ${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}, at most ${options.maxConnections} connections`);
  return {
    address,
    connections,
    async stop() {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await connections.endAll(CLOSE_GOING_AWAY, REASON_AGENT_STOPPING);
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * TCP: `binary` when offered (as websockify), else none. WebSocket: what the endpoint chose, or,
 * when it could not be reached, the first offered, so the client completes the handshake and
 * reads the 1011 and its reason (a browser fails a handshake that answers none of its offers).
 */
function protocolFor(endpoint: Endpoint, opened: OpenedEndpoint | null, offered: string[]): string {
  if (endpoint.kind !== "ws") return offered.includes(BINARY_PROTOCOL) ? BINARY_PROTOCOL : "";
  return opened?.kind === "ws" ? opened.ws.protocol : (offered[0] ?? "");
}

function resolveService(services: Readonly<Record<string, Endpoint>>, service: string): Result<Endpoint, ResolveFailure | "unknown-service"> {
  const endpoint = Object.hasOwn(services, service) ? services[service] : undefined;
  return endpoint ? ok(endpoint) : err("unknown-service");
}

function closeOpened(opened: OpenedEndpoint): void {
  if (opened.kind === "socket") opened.socket.destroy();
  else opened.ws.terminate();
}

function listen(server: ReturnType<typeof createServer>, at: ListenAddress): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(new GatewayError(`gateway: cannot listen on ${at.host}:${at.port}: ${error.code ?? error.message}`));
    server.once("error", onError);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off("error", onError);
      const bound = server.address();
      resolve(typeof bound === "object" && bound ? { host: at.host, port: bound.port } : at);
    });
  });
}
