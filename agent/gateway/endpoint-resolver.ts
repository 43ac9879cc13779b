/**
 * Where the session an assertion names is served. The gateway asks an `EndpointResolver`; today
 * the static map of the config answers (exact session id first, then `"*"`, one shared desktop),
 * and an `EndpointRegistry` in front of it takes endpoints that launchers register at run time as
 * sessions start and end. A registered endpoint belongs to one login: another user's assertion
 * for that session is refused, as the broker should never have issued it.
 */
import type { Result } from "../../src/core/result.ts";
import { err, ok } from "../../src/core/result.ts";
import { ANY_SESSION } from "./config.ts";
import type { Endpoint } from "./endpoint.ts";

export type ResolveFailure = "unknown-session" | "other-user";

export interface EndpointResolver {
  /** The endpoint of `sessionId` for the verified `login`. Pure lookup, no I/O. */
  resolve(sessionId: string, login: string): Result<Endpoint, ResolveFailure>;
}

/** The config's map: the session's own entry, else `"*"`, else unknown. Entries have no owner. */
export function staticEndpoints(endpoints: Readonly<Record<string, Endpoint>>): EndpointResolver {
  const map = new Map(Object.entries(endpoints));
  return {
    resolve(sessionId) {
      const endpoint = map.get(sessionId) ?? map.get(ANY_SESSION);
      return endpoint ? ok(endpoint) : err("unknown-session");
    },
  };
}

export interface RegisteredEndpoint {
  sessionId: string;
  endpoint: Endpoint;
  ownerLogin: string;
}

export interface EndpointRegistry extends EndpointResolver {
  /** Registers (or replaces) the endpoint of a running session owned by `ownerLogin`. */
  set(sessionId: string, endpoint: Endpoint, ownerLogin: string): void;
  /** Forgets a session's endpoint; live connections are not touched (see ConnectionRegistry.disconnect). */
  delete(sessionId: string): boolean;
  list(): RegisteredEndpoint[];
}

/** Runtime entries first; sessions without one fall back to `fallback` (the static map). */
export function createEndpointRegistry(fallback: EndpointResolver): EndpointRegistry {
  const entries = new Map<string, RegisteredEndpoint>();
  return {
    resolve(sessionId, login) {
      const entry = entries.get(sessionId);
      if (!entry) return fallback.resolve(sessionId, login);
      return entry.ownerLogin === login ? ok(entry.endpoint) : err("other-user");
    },
    set(sessionId, endpoint, ownerLogin) {
      entries.set(sessionId, { sessionId, endpoint, ownerLogin });
    },
    delete(sessionId) {
      return entries.delete(sessionId);
    },
    list() {
      return [...entries.values()];
    },
  };
}
