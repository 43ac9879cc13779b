/**
 * Cloudflare's edge in front of the local broker, the one part these suites mock (it cannot exist
 * on this machine): every request and WebSocket upgrade is passed to the Worker's socket with
 * `CF-Connecting-IP` set to the address the TCP connection came from, as Cloudflare sets it, so
 * the broker sees a client that moves from 127.0.0.1 to 127.0.0.2 move. It logs each request's
 * method, path, address and, for the X2Go frontends, the form's task.
 */
import { appendFileSync } from "node:fs";
import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { Duplex } from "node:stream";

export interface EdgeStandIn {
  url: string;
  /** `{ address, method, path, task }` of every request so far. */
  requests: Array<{ address: string; method: string; path: string; task: string }>;
  stop(): Promise<void>;
}

function forwardedHeaders(incoming: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming.headers)) if (value !== undefined && name !== "cf-connecting-ip") headers[name] = value;
  headers["cf-connecting-ip"] = (incoming.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  return headers;
}

export async function startEdgeStandIn(workerUrl: string, logFile: string): Promise<EdgeStandIn> {
  const target = new URL(workerUrl);
  const requests: EdgeStandIn["requests"] = [];
  const note = (incoming: IncomingMessage, body: Buffer) => {
    const address = (incoming.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    const path = incoming.url ?? "/";
    const task = /^\/(plain|json)\//.test(path) ? (new URLSearchParams(body.toString("utf8")).get("task") ?? "") : "";
    requests.push({ address, method: incoming.method ?? "", path: path.split("?")[0] ?? "", task });
    appendFileSync(logFile, `${new Date().toISOString()} ${address} ${incoming.method} ${path.split("?")[0]}${task ? ` task=${task}` : ""}\n`);
  };
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      note(incoming, body);
      const proxied = request({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: forwardedHeaders(incoming) }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      proxied.on("error", () => outgoing.destroy());
      proxied.end(body);
    });
  });
  server.on("upgrade", (incoming: IncomingMessage, client: Duplex, head: Buffer) => {
    note(incoming, Buffer.alloc(0));
    client.on("error", () => undefined);
    const proxied = request({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: forwardedHeaders(incoming) });
    proxied.on("upgrade", (answer, upstream, upstreamHead) => {
      upstream.on("error", () => client.destroy());
      const lines = [`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}`];
      for (let index = 0; index < answer.rawHeaders.length; index += 2) lines.push(`${answer.rawHeaders[index]}: ${answer.rawHeaders[index + 1]}`);
      client.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (upstreamHead.length > 0) client.write(upstreamHead);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client).on("error", () => upstream.destroy());
      client.pipe(upstream);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    proxied.on("response", (answer) => {
      const lines = [`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}`];
      for (let index = 0; index < answer.rawHeaders.length; index += 2) lines.push(`${answer.rawHeaders[index]}: ${answer.rawHeaders[index + 1]}`);
      client.write(`${lines.join("\r\n")}\r\n\r\n`);
      answer.pipe(client);
    });
    proxied.on("error", () => client.destroy());
    proxied.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
