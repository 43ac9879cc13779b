/**
 * The local ports the X2Go endpoint opens on demand: one per (profile, server) the broker selects,
 * kept for the helper's life so a client that reconnects (a resume) finds the same port. At most
 * MAX_PORTS: past that, the least recently used port without a connection is closed.
 */
import { type ForwardDeps, forwardPort } from "./forward.ts";
import type { ListenAddress, LocalListener } from "./local-listener.ts";

export const MAX_PORTS = 32;

export interface TunnelPorts {
  /** The local address whose connections tunnel to `server`'s service through `profileId`. */
  portFor(profileId: string, server: string): Promise<ListenAddress>;
  closeAll(): Promise<void>;
}

export function createTunnelPorts(host: string, broker: string, deps: ForwardDeps): TunnelPorts {
  const listeners = new Map<string, Promise<LocalListener>>();
  async function evictIdle(): Promise<void> {
    if (listeners.size < MAX_PORTS) return;
    for (const [key, pending] of listeners) {
      const listener = await pending.catch(() => null);
      if (listener && listener.active > 0) continue;
      listeners.delete(key);
      await listener?.close();
      return;
    }
  }
  return {
    async portFor(profileId, server) {
      const key = `${profileId}\n${server.toLowerCase()}`;
      let pending = listeners.get(key);
      if (pending) {
        listeners.delete(key);
      } else {
        await evictIdle();
        pending = forwardPort({ host, port: 0 }, { broker, profileId, server }, deps);
        pending.catch(() => listeners.delete(key));
      }
      listeners.set(key, pending);
      return (await pending).address;
    },
    async closeAll() {
      const all = [...listeners.values()];
      listeners.clear();
      await Promise.all(all.map(async (pending) => (await pending.catch(() => null))?.close()));
    },
  };
}
