import { describe, expect, it } from "vitest";
import { createHeartbeatClient } from "../../../agent/heartbeat-client.ts";
import { json, recordingSend, testIdentity } from "./helpers.ts";

async function outcomeFor(answer: () => Promise<Response> | Response, requestTimeoutMs = 1_000) {
  const identity = await testIdentity();
  const { send } = recordingSend(answer);
  const client = createHeartbeatClient({ brokerUrl: "http://b.test", identity, requestTimeoutMs }, { send, now: Date.now });
  return client("{}", new AbortController().signal);
}

describe("heartbeat answers", () => {
  it("accepts 200 with a valid reply", async () => {
    expect(await outcomeFor(() => json(200, { status: "draining", draining: true, intervalMs: 5_000 }))).toEqual({
      kind: "accepted",
      reply: { status: "draining", draining: true, intervalMs: 5_000 },
    });
  });

  it("fails on a 200 whose body is not a reply", async () => {
    expect(await outcomeFor(() => json(200, { ok: true }))).toMatchObject({ kind: "failed" });
  });

  it.each([401, 403])("reports %i as a refused key", async (status) => {
    expect(await outcomeFor(() => json(status, { error: { code: "UNAUTHORIZED", message: "authentication required or invalid" } }))).toEqual({
      kind: "refused",
      status,
    });
  });

  it("treats a 409 that is not HEARTBEAT_STALE as a failure", async () => {
    expect(await outcomeFor(() => json(409, { error: { code: "CONFLICT", message: "x" } }))).toEqual({ kind: "failed", reason: "HTTP 409 CONFLICT: x" });
  });

  it("reports 5xx with the broker's code, or the status when the body is not an envelope", async () => {
    expect(await outcomeFor(() => json(503, { error: { code: "INTERNAL", message: "oops" } }))).toEqual({ kind: "failed", reason: "HTTP 503 INTERNAL: oops" });
    expect(await outcomeFor(() => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }))).toEqual({
      kind: "failed",
      reason: "HTTP 502 HTTP_502: Bad Gateway",
    });
  });

  it("reports a network error with its cause", async () => {
    const outcome = await outcomeFor(() => Promise.reject(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:9") })));
    expect(outcome).toEqual({ kind: "failed", reason: "fetch failed (connect ECONNREFUSED 127.0.0.1:9)" });
  });

  it("bounds the request with requestTimeoutMs", async () => {
    const hang = recordingSend(
      (request) =>
        new Promise<Response>((_, reject) => {
          request.signal.addEventListener("abort", () => reject(request.signal.reason));
        }),
    );
    const identity = await testIdentity();
    const client = createHeartbeatClient({ brokerUrl: "http://b.test", identity, requestTimeoutMs: 100 }, { send: hang.send, now: Date.now });
    const started = Date.now();
    const outcome = await client("{}", new AbortController().signal);
    expect(outcome).toMatchObject({ kind: "failed", reason: expect.stringMatching(/timeout/i) });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
