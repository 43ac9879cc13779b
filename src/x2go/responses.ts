/**
 * HTTP answers of the X2Go frontends. X2Go clients read neither our JSON error envelope nor
 * error bodies at all, so failures are tornado's HTML error pages as x2gobroker sends them
 * (`<html><title>401: Unauthorized</title>…`), except 429, which is plain text with
 * `Retry-After`. Successful answers carry x2gobroker's literal `Expires: +1h` (an invalid date,
 * so never cached) and `Cache-Control: no-store`: the bodies hold one-time cookies.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { BrokerError } from "../core/errors.ts";
import type { Frontend } from "./broker.ts";
import { log } from "../core/log.ts";

const CONTENT_TYPES: Record<Frontend, string> = {
  plain: "text/plain; charset=utf-8",
  // python-x2go accepts an answer only if its Content-Type starts with text/json.
  json: "text/json; charset=utf-8",
};

const NO_CACHE = { Expires: "+1h", "Cache-Control": "no-store" };

/** Reason phrases as tornado prints them (Python's `http.client.responses`). */
const REASONS: Partial<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Request Entity Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  500: "Internal Server Error",
};

/** A 200 answer of `frontend` with `body`. */
export function x2goAnswer(frontend: Frontend, body: string): Response {
  return new Response(body, { status: 200, headers: { "Content-Type": CONTENT_TYPES[frontend], ...NO_CACHE } });
}

/** Tornado's default error page for `status`. */
export function tornadoPage(status: ContentfulStatusCode, headers: Record<string, string> = {}): Response {
  const title = `${status}: ${REASONS[status] ?? "Unknown"}`;
  return new Response(`<html><title>${title}</title><body>${title}</body></html>`, {
    status,
    headers: { "Content-Type": "text/html; charset=UTF-8", ...headers },
  });
}

/** The answer to a failure on an X2Go path: never the JSON envelope, never a 5xx for a client's mistake. */
export function x2goErrorResponse(error: unknown, requestId: string): Response {
  if (error instanceof BrokerError && error.code === "RATE_LIMITED") {
    const retryAfter = error.getResponse().headers.get("Retry-After");
    return new Response("429: Too Many Requests\n", {
      status: 429,
      headers: { "Content-Type": "text/plain; charset=utf-8", ...(retryAfter ? { "Retry-After": retryAfter } : {}) },
    });
  }
  if (error instanceof BrokerError && error.status < 500) return tornadoPage(error.status);
  log.error(`[${requestId}] x2go request failed`, error);
  return tornadoPage(500);
}
