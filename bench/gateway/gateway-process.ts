/**
 * The agent's node gateway in a process of its own for the gateway bench (its CPU and memory are
 * what is measured): `startGateway` exactly as `agent run` starts it, with the options given as
 * JSON in argv[2]. Reports its port over IPC; stops its connections and exits when told to or
 * when the parent goes away.
 */
import type { Endpoint } from "../../agent/gateway/endpoint.ts";
import { createEndpointRegistry, staticEndpoints } from "../../agent/gateway/endpoint-resolver.ts";
import { type GatewayOptions, startGateway } from "../../agent/gateway/gateway.ts";

/** `port`: where to listen on 127.0.0.1 (default: one the OS picks), e.g. the origin a node was enrolled with. */
export type GatewayProcessOptions = Omit<GatewayOptions, "resolver" | "listen"> & { endpoints: Record<string, Endpoint>; port?: number };
export type GatewayProcessMessage = { type: "listening"; port: number };

const options = JSON.parse(process.argv[2] ?? "{}") as GatewayProcessOptions;
const gateway = await startGateway(
  { ...options, listen: { host: "127.0.0.1", port: options.port ?? 0 }, resolver: createEndpointRegistry(staticEndpoints(options.endpoints)) },
  {
    now: () => Date.now(),
    // Per-connection lines would be thousands in a bench run: only failures are written.
    log: (line) => {
      if (!line.includes(" connected to session ") && !line.startsWith("gateway listening")) process.stderr.write(`${line}\n`);
    },
    setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
    clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  },
);
process.send?.({ type: "listening", port: gateway.address.port } satisfies GatewayProcessMessage);
const stop = async () => {
  await gateway.stop();
  process.exit(0);
};
process.on("message", (message) => message === "stop" && void stop());
process.on("disconnect", () => process.exit(0));
