/**
 * The helper's HTTP calls to the broker: node:http(s) rather than fetch, so that every call can
 * leave from a chosen local address (`--source-address`, as `ssh -b`), bounded in time and size.
 * A refusal carries the broker's error envelope (`{ error: { code, message } }`) when it sent one.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

export const REQUEST_TIMEOUT_MS = 15_000;
/** Broker answers are small (a token, a ticket, an X2Go listing). */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpCall {
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Local address the connection leaves from. */
  sourceAddress?: string | undefined;
  timeoutMs?: number;
}

/** The broker could not be reached, or answered something unreadable: a message for the user. */
export class EdgeError extends Error {
  override name = "EdgeError";
  /** The broker's error code when it sent one (UNAUTHORIZED, NOT_FOUND, …). */
  readonly code: string | null;
  readonly status: number | null;

  constructor(message: string, code: string | null = null, status: number | null = null) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function httpCall(call: HttpCall): Promise<HttpAnswer> {
  const url = new URL(call.url);
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  const body = call.body === undefined ? undefined : Buffer.from(call.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: call.method,
        headers: { ...call.headers, ...(body ? { "Content-Length": String(body.length) } : {}) },
        ...(call.sourceAddress ? { localAddress: call.sourceAddress } : {}),
        timeout: call.timeoutMs ?? REQUEST_TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new EdgeError(`the broker's answer exceeds ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new EdgeError(`no answer from ${url.origin} within ${(call.timeoutMs ?? REQUEST_TIMEOUT_MS) / 1000} s`)));
    req.on("error", (error: NodeJS.ErrnoException) =>
      reject(error instanceof EdgeError ? error : new EdgeError(`cannot reach ${url.origin}: ${error.code ?? error.message}`)),
    );
    req.end(body);
  });
}

/** The broker's `{ error: { code, message } }`, or a description of what came instead. */
export function refusalOf(answer: HttpAnswer): EdgeError {
  try {
    const parsed = JSON.parse(answer.body.toString("utf8")) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof parsed.error?.code === "string" ? parsed.error.code : null;
    const message = typeof parsed.error?.message === "string" ? parsed.error.message : null;
    if (code && message) return new EdgeError(`${message} (${code})`, code, answer.status);
  } catch {
    // not the envelope: described below
  }
  return new EdgeError(`the broker answered ${answer.status}`, null, answer.status);
}

/** POSTs JSON and parses the JSON answer; throws `refusalOf` for anything but `expectStatus`. */
export async function postJson<T>(url: string, body: unknown, options: { bearer?: string; sourceAddress?: string | undefined; expectStatus?: number[] } = {}): Promise<T> {
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
  if (options.bearer) headers["Authorization"] = `Bearer ${options.bearer}`;
  const answer = await httpCall({ method: "POST", url, headers, body: JSON.stringify(body), sourceAddress: options.sourceAddress });
  if (!(options.expectStatus ?? [200, 201]).includes(answer.status)) throw refusalOf(answer);
  try {
    return JSON.parse(answer.body.toString("utf8")) as T;
  } catch {
    throw new EdgeError(`the broker's answer to ${new URL(url).pathname} is not JSON`);
  }
}
