/** The load run's command line and the fixed parameters of the simulated cluster. */
import { parseArgs } from "node:util";

export interface LoadOptions {
  runSeconds: number;
  agents: number;
  clients: number;
  /** Every think time of a visit is multiplied by this (0.5 doubles the user load). */
  thinkScale: number;
  /** Where to write the result as JSON as well, if given. */
  json: string | undefined;
}

/** The pool's heartbeat interval: a node is down after 3 missed beats (3 s). */
export const INTERVAL_MS = 1000;
export const POOL = "default";
export const PROFILE_ID = "load-desktop";
export const PASSWORD = "load-test-password-0123";
export const MAX_SESSIONS_PER_NODE = 20;
/** Keep-alive sockets shared by every simulated agent and user (a modest pool). */
export const MAX_SOCKETS = 64;
/** Think times of a visit, ms (scaled by --think-scale). */
export const CONNECT_DELAY_MS = [200, 600] as const;
export const WORK_MS = [8_000, 16_000] as const;
export const PAUSE_MS = [1_000, 4_000] as const;
/** How long after the run the agents keep beating before the final checks (pending sessions confirm). */
export const SETTLE_MS = 3 * INTERVAL_MS;
/** How often the node list is polled during the run. */
export const POLL_EVERY_MS = 2_000;

function boundedInt(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name} must be a whole number from ${min} to ${max}`);
    process.exit(2);
  }
  return value;
}

/** Reads `--seconds`, `--agents`, `--clients`, `--think-scale` and `--json`; exits 2 on a value out of range. */
export function readOptions(): LoadOptions {
  const { values: args } = parseArgs({
    options: {
      seconds: { type: "string", default: "60" },
      agents: { type: "string", default: "200" },
      clients: { type: "string", default: "200" },
      "think-scale": { type: "string", default: "1" },
      json: { type: "string" },
    },
  });
  const runSeconds = boundedInt("seconds", args.seconds, 5, 600);
  const agents = boundedInt("agents", args.agents, 1, 1000);
  const clients = boundedInt("clients", args.clients, 1, 1000);
  const thinkScale = Number(args["think-scale"]);
  if (!(thinkScale >= 0.1 && thinkScale <= 10)) {
    console.error("--think-scale must be a number from 0.1 to 10");
    process.exit(2);
  }
  return { runSeconds, agents, clients, thinkScale, json: args.json };
}
