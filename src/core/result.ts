/**
 * The one result type for expected failures (workers-oauth-provider's style): a function that can
 * fail in a known way returns `Result<T, E>` with `E` a closed union of reasons, and the caller
 * that answers HTTP maps `E` exhaustively onto an `ErrorCode`. Results cross Durable Object RPC
 * unchanged (plain data), where thrown errors would lose their type.
 */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
