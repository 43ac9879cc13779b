/** HTTP: node:http with one keep-alive pool (cheaper per request than fetch on this machine). */
import { Agent, request as httpRequest } from "node:http";
import { MAX_SOCKETS } from "./options.ts";

export interface Answer {
  status: number;
  text: string;
  ms: number;
}

/** Every request of the run, simulated agents, users and the admin setup alike, goes through one of these. */
export class BrokerHttp {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  readonly #url: URL;
  readonly #adminHeaders: Record<string, string>;

  constructor(url: URL, adminToken: string) {
    this.#url = url;
    this.#adminHeaders = { Authorization: `Bearer ${adminToken}` };
  }

  /** Never rejects: a failed request answers status 0 with the error as its text. */
  send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
    const started = performance.now();
    return new Promise((resolve) => {
      const req = httpRequest(
        {
          agent: this.#agent,
          host: this.#url.hostname,
          port: this.#url.port,
          method,
          path,
          headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }));
          res.on("error", (error) => resolve({ status: 0, text: String(error), ms: performance.now() - started }));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timed out after 30 s")));
      req.on("error", (error) => resolve({ status: 0, text: String(error), ms: performance.now() - started }));
      req.end(body);
    });
  }

  /** A call to the admin API (setup and checks); throws on anything but a 2xx. */
  async admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.send(method, path, this.#adminHeaders, body === undefined ? undefined : JSON.stringify(body));
    if (answer.status < 200 || answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
    return (answer.text ? JSON.parse(answer.text) : undefined) as T;
  }

  destroy(): void {
    this.#agent.destroy();
  }
}
