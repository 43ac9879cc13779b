/**
 * What pool RPC methods return for expected failures: errors thrown across RPC lose their
 * type, so the object returns a tagged result and the route turns it into a BrokerError.
 */
import { BrokerError, type ErrorCode } from "../core/errors.ts";

export type RpcResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

export function ok<T>(value: T): RpcResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ErrorCode, message: string): RpcResult<T> {
  return { ok: false, code, message };
}

/** Unwraps a result in a route: the value, or a BrokerError with the object's code and message. */
export function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  throw new BrokerError(result.code, result.message);
}
