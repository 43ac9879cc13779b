/**
 * The `launchers` section of the agent config: where the admin's launchers are and how far they
 * are trusted (run time, output, which hosts their endpoints may name). Absent, the node starts
 * no sessions. Durations in ms, sizes in bytes.
 */
import { z } from "zod";

export const DEFAULT_LAUNCHER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const typeError = (message: string) => (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : message);

const msSchema = (minMs: number, maxMs: number, fallbackMs: number) =>
  z
    .number({ error: typeError("must be a number of milliseconds") })
    .int("must be a whole number of milliseconds")
    .min(minMs, `must be at least ${minMs} ms`)
    .max(maxMs, `must be at most ${maxMs} ms`)
    .default(fallbackMs);

/** An exact host name or `*.suffix`, as launchers.endpointHosts holds them. */
const hostPatternSchema = z
  .string()
  .regex(/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/, "must be a host name or *.domain");

export const launchersConfigSchema = z.strictObject(
  {
    /** The directory of launcher executables (relative to the config file). */
    dir: z.string({ error: typeError("must be a path") }).min(1, "must be a non-empty path"),
    /** Bound on one run of a launcher (start, status or stop); the process group is killed after it. */
    timeoutMs: msSchema(100, 600_000, 30_000),
    /** Bound on what one run may write to stdout, and to stderr. */
    maxOutputBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
    /** How often a queued session's launcher is asked for its `status`. */
    statusIntervalMs: msSchema(100, 3_600_000, 3_000),
    /** A running session without a pid is asked for its `status` this often (its desktop may have ended). */
    liveCheckIntervalMs: msSchema(1_000, 3_600_000, 30_000),
    /** A session queued longer than this is stopped and reported failed (DCV gives up after 1800 s). */
    maxQueuedMs: msSchema(1_000, 7 * 24 * 3_600_000, 3_600_000),
    /** Hosts besides loopback that launchers' tcp:// and ws:// endpoints may name (batch compute nodes). */
    endpointHosts: z.array(hostPatternSchema).max(256).default([]),
    /** PATH in the launchers' environment (they get no other variable of the agent's). */
    path: z.string().min(1).max(4096).default(DEFAULT_LAUNCHER_PATH),
  },
  { error: typeError('must be an object such as { "dir": "/opt/edge-broker/agent/launchers" }') },
);

export type LaunchersConfig = z.infer<typeof launchersConfigSchema>;
