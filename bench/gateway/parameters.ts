/** The gateway bench's parameters, targets and row names, shared by the run (gateway.ts) and its tables (sections.ts). */

export const MiB = 1024 * 1024;
/** Per throughput run: 64 KiB frames, a warm-up on the same connection, then the timed part. */
export const THROUGHPUT = { warmupBytes: 16 * MiB, totalBytes: 256 * MiB, maxMs: 10_000, windowBytes: 4 * MiB };
/** Runs per server, interleaved (gateway, websockify, gateway, …) so a busy moment hits both. */
export const THROUGHPUT_ROUNDS = 5;
/** The stalled reader: the endpoint pushes for this long, at most this much. */
export const STALL = { maxBytes: 256 * MiB, maxMs: 4_000 };
/** Targets (issue 13): gateway ≥ 1.5 × websockify's MB/s at no more CPU per GB; RSS growth under a stalled reader. */
export const THROUGHPUT_RATIO_TARGET = 1.5;
export const RSS_GROWTH_LIMIT = 16 * MiB;
/** A stalled reader must hold the endpoint back: well under what it would push unchecked. */
export const PUSHED_LIMIT = 64 * MiB;
export const GATEWAY = "agent gateway";
export const WEBSOCKIFY = "websockify";
