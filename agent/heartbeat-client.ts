/**
 * Sends one signed heartbeat and classifies the broker's answer for the loop. Never throws:
 * every failure, including a timeout or an abort, becomes a `failed` outcome.
 */
import { AGENT_PATHS, errorEnvelopeSchema, type HeartbeatReply, heartbeatReplySchema } from "../src/protocol.ts";
import { type AgentDeps, errorMessage } from "./deps.ts";
import { type NodeIdentity, SeqCounter, signHeartbeatToken } from "./token.ts";

export type BeatOutcome =
  /** 200: the broker recorded the beat. */
  | { kind: "accepted"; reply: HeartbeatReply }
  /** 409 HEARTBEAT_STALE: our seq was not above the last accepted one; it has been bumped. */
  | { kind: "stale" }
  /** 401/403: the broker does not accept this key (node removed, or re-enrolled elsewhere). */
  | { kind: "refused"; status: number }
  /** Network error, timeout, 5xx, or any other answer; worth retrying with backoff. */
  | { kind: "failed"; reason: string };

export interface HeartbeatClientOptions {
  brokerUrl: string;
  identity: NodeIdentity;
  /** Bound on the whole exchange, response body included. */
  requestTimeoutMs: number;
  /** The agent's one sequence counter, shared with the channel client (default: a counter of its own). */
  seq?: SeqCounter;
}

export type SendHeartbeat = (bodyText: string, signal: AbortSignal) => Promise<BeatOutcome>;

/** `brokerUrl` without trailing slashes, plus `path` (keeps any path prefix of the broker). */
export function brokerEndpoint(brokerUrl: string, path: string): string {
  return brokerUrl.replace(/\/+$/, "") + path;
}

async function describeError(response: Response): Promise<{ code: string; message: string }> {
  const text = await response.text().catch(() => "");
  try {
    const parsed = errorEnvelopeSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.error;
  } catch {
    // Not JSON (a proxy's error page, say): the status is all we know.
  }
  return { code: `HTTP_${response.status}`, message: response.statusText || "no error body" };
}

export function createHeartbeatClient(options: HeartbeatClientOptions, deps: Pick<AgentDeps, "send" | "now">): SendHeartbeat {
  const seq = options.seq ?? new SeqCounter();
  const url = brokerEndpoint(options.brokerUrl, AGENT_PATHS.heartbeat);

  return async (bodyText, signal) => {
    try {
      const nowMs = deps.now();
      const token = await signHeartbeatToken(options.identity, bodyText, seq.next(nowMs), nowMs);
      const response = await deps.send(url, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: bodyText,
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.requestTimeoutMs)]),
      });
      if (response.status === 200) {
        const reply = heartbeatReplySchema.safeParse(await response.json());
        if (!reply.success) return { kind: "failed", reason: "the broker answered 200 with an unexpected body" };
        seq.accepted();
        return { kind: "accepted", reply: reply.data };
      }
      const error = await describeError(response);
      if (response.status === 409 && error.code === "HEARTBEAT_STALE") {
        seq.bump();
        return { kind: "stale" };
      }
      if (response.status === 401 || response.status === 403) return { kind: "refused", status: response.status };
      return { kind: "failed", reason: `HTTP ${response.status} ${error.code}: ${error.message}` };
    } catch (error) {
      return { kind: "failed", reason: errorMessage(error) };
    }
  };
}
