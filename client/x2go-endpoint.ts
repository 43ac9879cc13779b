/**
 * `x2go --listen`: a local X2Go broker for unmodified x2goclient (`/plain/`) and pyhoca-cli
 * (`/json/`). Every request goes on to the broker's own X2Go frontend as the signed-in user
 * (`Authorization: Bearer`: the client's broker password is not needed and not forwarded);
 * listings come back as they are, and a selectsession's `SERVER:<host>:<port>` becomes a local
 * port (opened on first use, one per profile and server) whose connections tunnel through the
 * relay to that server's sshd. ACLs, profiles and resume are the broker's, unchanged.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { httpCall } from "./edge-http.ts";
import { formatAddress, type ListenAddress } from "./local-listener.ts";
import { peerIsSameUser } from "./peer-user.ts";
import { bearerFor } from "./session.ts";
import { type ForwardDeps } from "./forward.ts";
import { createTunnelPorts } from "./tunnel-ports.ts";
import { frontendOf, readRequest, rewriteAnswer, selectedServer } from "./x2go-answer.ts";

/** An X2Go request is a few short fields (and at most an SSH public key). */
const MAX_REQUEST_BYTES = 64 * 1024;

export interface X2goEndpoint {
  address: ListenAddress;
  close(): Promise<void>;
}

function reply(response: ServerResponse, status: number, body: string, contentType = "text/plain; charset=utf-8"): void {
  response.writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-store" });
  response.end(body);
}

function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on("end", () => resolve(size <= MAX_REQUEST_BYTES ? Buffer.concat(chunks) : null));
    request.on("error", () => resolve(null));
  });
}

export async function serveX2go(at: ListenAddress, broker: string, deps: ForwardDeps): Promise<X2goEndpoint> {
  const ports = createTunnelPorts(at.host, broker, deps);
  const checkPeer = deps.checkPeer ?? peerIsSameUser;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url ?? "/";
    const frontend = frontendOf(path);
    if (!frontend) return reply(response, 404, "not an X2Go broker path: use /plain/ or /json/\n");
    if (!(await checkPeer(request.socket))) {
      deps.log("edge-desktop: refused an X2Go request from another user's process");
      return reply(response, 403, "forbidden\n");
    }
    const body = await readBody(request);
    if (body === null) return reply(response, 413, "request too large\n");
    let bearer: string;
    try {
      bearer = await bearerFor(broker, deps);
    } catch (error) {
      deps.log(`edge-desktop: ${error instanceof Error ? error.message : String(error)}`);
      return reply(response, 401, "<html><title>401: Unauthorized</title><body>401: Unauthorized</body></html>", "text/html; charset=UTF-8");
    }
    const contentType = request.headers["content-type"];
    const headers: Record<string, string> = { Authorization: `Bearer ${bearer}`, ...(contentType ? { "Content-Type": contentType } : {}) };
    const method = request.method === "GET" ? "GET" : "POST";
    const answer = await httpCall({ method, url: `${broker}${path}`, headers, ...(method === "POST" ? { body } : {}), sourceAddress: deps.sourceAddress });
    const answerType = String(answer.headers["content-type"] ?? "text/plain; charset=utf-8");
    if (answer.status === 401) deps.log(`edge-desktop: the broker refused the sign-in for X2Go: run  edge-desktop login --broker ${broker}`);
    if (answer.status !== 200) return reply(response, answer.status, answer.body.toString("utf8"), answerType);
    const text = answer.body.toString("utf8");
    const { task, profileId } = readRequest(frontend, path.split("?")[1] ?? "", body, contentType);
    const server = task === "selectsession" ? selectedServer(frontend, text) : null;
    const local = server && profileId ? await ports.portFor(profileId, server.host) : null;
    if (server && local) deps.log(`edge-desktop: X2Go session of profile ${profileId} on ${server.host}: ssh through ${formatAddress(local)}`);
    reply(response, 200, rewriteAnswer(frontend, text, local, randomUUID()), answerType);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      deps.log(`edge-desktop: X2Go request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) reply(response, 502, "the broker could not be reached\n");
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${formatAddress(at)}: ${error.code ?? error.message}`)));
    server.listen({ host: at.host, port: at.port }, () => resolve());
  });
  const bound = server.address();
  return {
    address: { host: at.host, port: typeof bound === "object" && bound ? bound.port : at.port },
    async close() {
      await ports.closeAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
