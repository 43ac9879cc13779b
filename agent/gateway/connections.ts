/**
 * The live connections of the gateway, for the rest of the agent: what is connected (session,
 * user, since when, how much is buffered), and `disconnect`, the revocation path a pass-through
 * relay lacks. The control channel calls it for the broker's `disconnect` command: matching
 * clients get close code 4000 (CLOSE_ENDED_BY_BROKER) with the reason, their endpoints are cut at
 * once, and a client that does not answer the close is cut after the grace (1 s).
 */
import type { Bridge, FlowState } from "./bridge.ts";
import { CLOSE_ENDED_BY_BROKER } from "./close-codes.ts";

export interface LiveConnection extends FlowState {
  id: number;
  sessionId: string;
  /** The login from the broker's assertion. */
  user: string;
  /** Epoch ms the connection was accepted. */
  sinceMs: number;
  /** The endpoint as configured (describeEndpoint). */
  endpoint: string;
}

export type ConnectionMatch = { sessionId: string } | { user: string };

export interface ConnectionRegistry {
  list(): LiveConnection[];
  /** Closes every open connection matching `match` with 4000 and `reason`; returns how many it closed. */
  disconnect(match: ConnectionMatch, reason: string): number;
  readonly size: number;
}

interface Entry {
  info: Omit<LiveConnection, keyof FlowState>;
  bridge: Bridge;
}

export interface TrackingRegistry extends ConnectionRegistry {
  /** Adds a bridged connection; it leaves the registry by itself once closed. */
  track(info: Omit<LiveConnection, "id" | keyof FlowState>, bridge: Bridge): void;
  /** Ends every connection with `code` and `reason` and settles once all are closed. */
  endAll(code: number, reason: string): Promise<void>;
}

export function createConnectionRegistry(): TrackingRegistry {
  const entries = new Map<number, Entry>();
  let nextId = 1;
  const matches = (entry: Entry, match: ConnectionMatch) => ("sessionId" in match ? entry.info.sessionId === match.sessionId : entry.info.user === match.user);
  return {
    list: () => [...entries.values()].map(({ info, bridge }) => ({ ...info, ...bridge.flow() })),
    disconnect(match, reason) {
      let count = 0;
      for (const entry of entries.values()) {
        if (entry.bridge.ending || !matches(entry, match)) continue;
        entry.bridge.end(CLOSE_ENDED_BY_BROKER, reason);
        count++;
      }
      return count;
    },
    get size() {
      return entries.size;
    },
    track(info, bridge) {
      const id = nextId++;
      entries.set(id, { info: { id, ...info }, bridge });
      void bridge.closed.then(() => entries.delete(id));
    },
    async endAll(code, reason) {
      const open = [...entries.values()];
      for (const entry of open) entry.bridge.end(code, reason);
      await Promise.all(open.map((entry) => entry.bridge.closed));
    },
  };
}
