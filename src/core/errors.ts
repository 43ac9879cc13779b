/**
 * One error type for every HTTP-facing failure, and the envelope it renders to:
 * `{ "error": { "code", "message", "requestId" } }`.
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export type ErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "CONFLICT"
  | "HEARTBEAT_STALE"
  | "SESSION_LIMIT_REACHED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "RATE_LIMITED"
  | "POLICY_REJECTED"
  | "POLICY_INVALID_RESULT"
  | "NO_SERVER_AVAILABLE"
  | "UPGRADE_REQUIRED"
  | "ORIGIN_UNREACHABLE"
  /** A command to a node: its control channel is down, it did not answer in time, it is busy, it failed. */
  | "NODE_NOT_CONNECTED"
  | "NODE_TIMEOUT"
  | "NODE_BUSY"
  | "NODE_FAILED"
  /** The node's launcher refused or failed a start; the message is the launcher's, for the user. */
  | "LAUNCH_FAILED"
  /** A wait-line entry that ended without a place: it expired or an admin removed it. */
  | "NO_LONGER_QUEUED"
  | "INTERNAL";

export function codeToStatus(code: ErrorCode): ContentfulStatusCode {
  switch (code) {
    case "BAD_REQUEST":
      return 400;
    case "UNAUTHORIZED":
      return 401;
    case "FORBIDDEN":
      return 403;
    case "NOT_FOUND":
      return 404;
    case "METHOD_NOT_ALLOWED":
      return 405;
    case "CONFLICT":
    case "HEARTBEAT_STALE":
    case "SESSION_LIMIT_REACHED":
    case "NODE_NOT_CONNECTED":
      return 409;
    case "NO_LONGER_QUEUED":
      return 410;
    case "PAYLOAD_TOO_LARGE":
      return 413;
    case "UNSUPPORTED_MEDIA_TYPE":
      return 415;
    case "POLICY_REJECTED":
      return 422;
    case "UPGRADE_REQUIRED":
      return 426;
    case "RATE_LIMITED":
      return 429;
    case "INTERNAL":
      return 500;
    case "POLICY_INVALID_RESULT":
    case "ORIGIN_UNREACHABLE":
    case "NODE_FAILED":
    case "LAUNCH_FAILED":
      return 502;
    case "NO_SERVER_AVAILABLE":
    case "NODE_BUSY":
      return 503;
    case "NODE_TIMEOUT":
      return 504;
  }
}

export class BrokerError extends HTTPException {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; headers?: HeadersInit }) {
    const status = codeToStatus(code);
    const res = options?.headers ? new Response(null, { status, headers: options.headers }) : undefined;
    super(status, { message, cause: options?.cause, ...(res ? { res } : {}) });
    this.code = code;
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId?: string };
}

export function errorBody(code: ErrorCode, message: string, requestId?: string): ErrorBody {
  return { error: { code, message, ...(requestId ? { requestId } : {}) } };
}

/** The generic answer to every failed authentication; the precise reason goes to the log only. */
export function unauthorized(): BrokerError {
  return new BrokerError("UNAUTHORIZED", "authentication required or invalid");
}
