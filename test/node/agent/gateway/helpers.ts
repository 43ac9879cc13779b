/**
 * Real loopback parts for the gateway tests: a gateway on an ephemeral port, assertions signed as
 * the broker signs them, TCP endpoints that record what reaches them, a `ws` client. Nothing of
 * the network is mocked.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach } from "vitest";
import { WebSocket } from "ws";
import type { Endpoint } from "../../../../agent/gateway/endpoint.ts";
import { createEndpointRegistry, type EndpointRegistry, staticEndpoints } from "../../../../agent/gateway/endpoint-resolver.ts";
import { type GatewayOptions, type RunningGateway, startGateway } from "../../../../agent/gateway/gateway.ts";
import { assertionKeyForEnrolment, newAssertionSalt, signNodeAssertion } from "../../../../src/tokens/node-assertion.ts";

export const SIGNING_KEY = new TextEncoder().encode("test-signing-key-0123456789abcdef0123456789");
export const SERVER_ID = "srv_gatewaytest0001";
export const OTHER_SERVER_ID = "srv_gatewaytest0002";
/** The salt of this node's assertion key (random per enrolment, as the broker draws it). */
export const ASSERTION_SALT = newAssertionSalt();
export const ASSERTION_KEY = await assertionKeyForEnrolment(SIGNING_KEY, SERVER_ID, ASSERTION_SALT);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An assertion as the broker's relay signs it (for another node with `serverId`, at another time with `nowMs`). */
export function mintAssertion(subject: { login: string; sessionId: string; serverId?: string; nowMs?: number; signingKey?: Uint8Array }): Promise<string> {
  return signNodeAssertion(subject.signingKey ?? SIGNING_KEY, { serverId: subject.serverId ?? SERVER_ID, assertionSalt: ASSERTION_SALT, login: subject.login, sessionId: subject.sessionId }, subject.nowMs ?? Date.now());
}

export interface TestGateway {
  gateway: RunningGateway;
  endpoints: EndpointRegistry;
  url: string;
  lines: string[];
}

export async function startTestGateway(endpoints: Record<string, Endpoint>, overrides: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const lines: string[] = [];
  const registry = createEndpointRegistry(staticEndpoints(endpoints));
  const gateway = await startGateway(
    {
      listen: { host: "127.0.0.1", port: 0 },
      maxConnections: 50,
      maxMessageBytes: 1024 * 1024,
      connectTimeoutMs: 2_000,
      serverId: SERVER_ID,
      assertionKey: ASSERTION_KEY,
      resolver: registry,
      ...overrides,
    },
    {
      now: () => Date.now(),
      log: (line) => lines.push(line),
      setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
      clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    },
  );
  cleanups.push(() => gateway.stop());
  return { gateway, endpoints: registry, url: `ws://127.0.0.1:${gateway.address.port}/`, lines };
}

export interface TcpEndpoint {
  endpoint: Endpoint;
  port: number;
  /** Every connection that reached this endpoint. */
  sockets: Socket[];
  /** Resolves with the first connection not yet returned by an earlier call (waits for it if needed). */
  nextConnection(): Promise<Socket>;
  server: Server;
}

/** A TCP server on 127.0.0.1; `onConnection` decides what it does (default: echo). */
export async function startTcpEndpoint(onConnection: (socket: Socket) => void = (socket) => socket.pipe(socket)): Promise<TcpEndpoint> {
  const sockets: Socket[] = [];
  const waiting: Array<(socket: Socket) => void> = [];
  let claimed = 0;
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    sockets.push(socket);
    const waiter = waiting.shift();
    if (waiter) {
      claimed++;
      waiter(socket);
    }
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    endpoint: { kind: "tcp", host: "127.0.0.1", port },
    port,
    sockets,
    nextConnection: () => {
      const ready = sockets[claimed];
      if (ready) {
        claimed++;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    server,
  };
}

/** An accepted upgrade, with every message received from the first one on (they can come with the 101). */
export type Upgrade = { ok: true; ws: WebSocket; received: Buffer[] } | { ok: false; status: number; body: string };

/** Opens a WebSocket to the gateway with `assertion` (none when undefined); the refusal's status when refused. */
export function connect(url: string, assertion: string | undefined, protocols: string[] = []): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false, headers: assertion === undefined ? {} : { "X-Broker-Assertion": assertion } });
    cleanups.push(() => ws.terminate());
    const received: Buffer[] = [];
    ws.on("message", (data) => received.push(data as Buffer));
    ws.once("open", () => resolve({ ok: true, ws, received }));
    ws.once("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      response.on("end", () => resolve({ ok: false, status: response.statusCode ?? 0, body }));
    });
    ws.once("error", reject);
  });
}

/** Connects and expects the upgrade to succeed. */
export async function open(url: string, assertion: string, protocols: string[] = []): Promise<WebSocket> {
  return (await openLogged(url, assertion, protocols)).ws;
}

/** Like `open`, with the messages received from the start. */
export async function openLogged(url: string, assertion: string, protocols: string[] = []): Promise<{ ws: WebSocket; received: Buffer[] }> {
  const upgrade = await connect(url, assertion, protocols);
  if (!upgrade.ok) throw new Error(`upgrade refused: ${upgrade.status} ${upgrade.body}`);
  return upgrade;
}

export function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) throw new Error("already closed");
  return new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString("utf8") })));
}

export function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once("message", (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}

/** Resolves once `socket` has received its peer's FIN (or closed). */
export function ended(socket: Socket): Promise<void> {
  if (socket.readableEnded || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once("end", () => resolve());
    socket.once("close", () => resolve());
    socket.resume();
  });
}

export function track(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}
