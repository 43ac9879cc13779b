/**
 * What the pool object's RPC methods answer for expected failures: errors thrown across RPC lose
 * their type, so each method returns a `Result` whose error is one of these reasons, and the
 * Worker maps it to the broker's error (exhaustively) where it reaches HTTP.
 */
import type { ChannelError } from "../channel-protocol.ts";
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

export const POOL_FAILURES: readonly PoolFailure[] = ["unknown-server", "unknown-node", "bad-heartbeat", "stale-heartbeat"];

export function isPoolFailure(value: unknown): value is PoolFailure {
  return POOL_FAILURES.includes(value as PoolFailure);
}

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

/** A command to a node (over its control channel) that did not complete. */
export type CommandFailure = "unknown-server" | ChannelError;

export function commandFailureError(failure: CommandFailure, serverId: string): BrokerError {
  if (failure === "unknown-server") return poolFailureError(failure, serverId);
  switch (failure.code) {
    case "NOT_CONNECTED":
      return new BrokerError("NODE_NOT_CONNECTED", `${serverId} has no control channel now: ${failure.message}`);
    case "TIMEOUT":
      return new BrokerError("NODE_TIMEOUT", failure.message);
    case "TOO_MANY_PENDING":
      return new BrokerError("NODE_BUSY", failure.message, { headers: { "Retry-After": "5" } });
    case "LAUNCH_FAILED":
      return new BrokerError("LAUNCH_FAILED", failure.message);
    case "UNKNOWN_SESSION":
      return new BrokerError("CONFLICT", `${serverId} manages no such session (it was not started by the broker): ${failure.message}`);
    case "BAD_MESSAGE":
    case "UNKNOWN_METHOD":
    case "FAILED":
    case "UNAVAILABLE":
      return new BrokerError("NODE_FAILED", `${serverId} answered ${failure.code}: ${failure.message}`);
  }
}

export function unwrapCommand<T>(result: Result<T, CommandFailure>, serverId: string): T {
  if (result.ok) return result.value;
  throw commandFailureError(result.error, serverId);
}
