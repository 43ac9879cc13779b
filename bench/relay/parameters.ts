/** The relay bench's parameters, targets and path names, shared by the run (relay.ts) and its tables (sections.ts). */
import { createRequire } from "node:module";
import { REFERENCE_WORKERD_VERSION } from "./reference-workerd.ts";

export const MiB = 1024 * 1024;
export const THROUGHPUT = { warmupBytes: 16 * MiB, totalBytes: 256 * MiB, maxMs: 10_000, windowBytes: 4 * MiB };
/** Throughput runs per path, interleaved across paths (each round in a rotated order) so a busy moment on the machine hits all. */
export const THROUGHPUT_ROUNDS = 7;
export const RTT_MESSAGES = 2_000;
export const RTT_WARMUP = 100;
export const SMALL_BYTES = 32;
export const SEQUENTIAL_CONNECTS = 200;
export const TICKETED_CONNECTS = 100;
export const CONCURRENT = 200;
export const CONCURRENT_TRIPS = 5;
export const STALL_MS = 4_000;
export const STALL_MAX_BYTES = 256 * MiB;
/** Targets (the issue): relay ≥ 0.9 × HAProxy; relay RSS growth while the reader stalls. */
export const THROUGHPUT_RATIO_TARGET = 0.9;
/** Issue 13: the broker relay ≥ 0.95 × the bare pass-through Worker's MB/s (the broker's own overhead over the runtime's). */
export const BARE_RATIO_TARGET = 0.95;
export const RSS_GROWTH_LIMIT = 64 * MiB;
/** A stalled reader must hold the sender back: well under what it would push unchecked. */
export const PUSHED_LIMIT = 64 * MiB;
export const TICKET_CONCURRENCY = 4;
/** The Worker on its own socket (as on Cloudflare: nothing of Miniflare's in front). */
export const RELAY = "broker relay";
/** The same Worker behind Miniflare's entry worker (Miniflare's default socket, a dev-only hop). */
export const ENTRY_RELAY = "broker relay, Miniflare entry";
export const HAPROXY = "HAProxy";
/** `fetch(origin, request)` and nothing else, on the same workerd (bare-worker.ts). */
export const BARE = "bare pass-through Worker";
/** The same Worker on the last workerd with KJ's own network I/O (reference-workerd.ts). */
export const REFERENCE_RELAY = `broker relay, workerd ${REFERENCE_WORKERD_VERSION} (KJ I/O)`;
/** The workerd Miniflare runs (its own dependency, which may differ from a top-level one). */
export const WORKERD_VERSION = (createRequire(createRequire(import.meta.url).resolve("miniflare"))("workerd/package.json") as { version: string }).version;
