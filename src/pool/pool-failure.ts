/**
 * What the pool object's RPC methods answer for expected failures: errors thrown across RPC lose
 * their type, so each method returns a `Result` whose error is one of these reasons, and the
 * Worker maps it to the broker's error (exhaustively) where it reaches HTTP.
 */
import { BrokerError, unauthorized } from "../core/errors.ts";
import type { Result } from "../core/result.ts";

export type PoolFailure =
  /** The serverId is not (or no longer) in this pool. */
  | "unknown-server"
  /** A heartbeat for a node this object does not hold: the catalogue may know it (recovery). */
  | "unknown-node"
  /** A heartbeat whose token does not verify with the node's key. */
  | "bad-heartbeat"
  /** A heartbeat whose sequence number is not above the last accepted one. */
  | "stale-heartbeat";

export function poolFailureError(failure: PoolFailure, serverId: string): BrokerError {
  switch (failure) {
    case "unknown-server":
      return new BrokerError("NOT_FOUND", `no server ${serverId} in this pool`);
    case "unknown-node":
    case "bad-heartbeat":
      return unauthorized();
    case "stale-heartbeat":
      return new BrokerError("HEARTBEAT_STALE", "heartbeat sequence number is not above the last accepted one");
  }
}

/** The value of a pool answer, or the broker's error for its failure. */
export function unwrapPool<T>(result: Result<T, PoolFailure>, serverId: string): T {
  if (result.ok) return result.value;
  throw poolFailureError(result.error, serverId);
}
