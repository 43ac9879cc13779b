/**
 * `connect` and `forward`: a node's service through the relay, for one stdin/stdout pair (an
 * OpenSSH ProxyCommand) or for every connection to a local port. Each connection gets a ticket of
 * its own, so a port stays usable for as long as the sign-in lasts.
 */
import type { Socket } from "node:net";
import { EdgeError } from "./edge-http.ts";
import { type ListenAddress, listenLocal, type ListenerDeps, type LocalListener } from "./local-listener.ts";
import type { SessionDeps } from "./session.ts";
import { describeEnd, joinTunnel, openTunnel, type TunnelTarget } from "./tunnel.ts";

export type ForwardDeps = SessionDeps & ListenerDeps;

/** Carries one local connection through a new tunnel; failures end the connection and are logged. */
export function forwardConnection(socket: Socket, target: TunnelTarget, deps: ForwardDeps): void {
  openTunnel(target, deps).then(
    async (tunnel) => {
      if (socket.destroyed) return tunnel.ws.close();
      socket.resume();
      const end = await joinTunnel(tunnel, socket, socket);
      const line = describeEnd(end);
      if (line) deps.log(`edge-desktop: ${target.server}: ${line}`);
    },
    (error: unknown) => {
      deps.log(`edge-desktop: ${target.server}: ${error instanceof Error ? error.message : String(error)}`);
      socket.destroy();
    },
  );
}

/** `forward --listen`: every connection to `at` goes to the target's service. */
export function forwardPort(at: ListenAddress, target: TunnelTarget, deps: ForwardDeps): Promise<LocalListener> {
  return listenLocal(at, (socket) => forwardConnection(socket, target, deps), deps);
}

/**
 * `connect`: stdin and stdout through one tunnel (`ssh -o ProxyCommand='edge-desktop connect
 * --profile P %h' user@host`). Resolves with the exit code: 0 when the service or the client
 * ended the connection, 1 when the node or the broker did.
 */
export async function connectStdio(target: TunnelTarget, deps: SessionDeps & { log: (line: string) => void }, io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream }): Promise<number> {
  let tunnel;
  try {
    tunnel = await openTunnel(target, deps);
  } catch (error) {
    deps.log(`edge-desktop: ${error instanceof EdgeError ? error.message : String(error)}`);
    return 1;
  }
  const line = describeEnd(await joinTunnel(tunnel, io.input, io.output));
  if (line) deps.log(`edge-desktop: ${line}`);
  return line ? 1 : 0;
}
