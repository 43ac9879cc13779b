/** The SSH bench's sizes, counts and bounds (bench/ssh/ssh.ts). */
export const MiB = 1024 * 1024;
/** Bytes per throughput run: `head -c` on the node, counted on the client. */
export const TRANSFER_BYTES = 256 * MiB;
/** Interleaved rounds per path and direction (each after one untimed warm-up run of 16 MiB). */
export const THROUGHPUT_ROUNDS = 3;
export const WARMUP_BYTES = 16 * MiB;
/** One run may take at most this long (a stuck path fails the bench instead of hanging it). */
export const RUN_TIMEOUT_MS = 120_000;
/** Interactive round trips: one byte to `cat` on a pty and back, after a warm-up. */
export const RTT_TRIPS = 300;
export const RTT_WARMUP = 30;
/** AES-GCM (AES-NI here) so that ssh's own cipher is not what is measured. */
export const CIPHER = "aes128-gcm@openssh.com";
/** The paths measured, in table order. */
export const DIRECT = "direct (ssh → sshd)";
export const HAPROXY = "HAProxy TCP mode";
export const EDGE = "edge-desktop → relay → gateway";
/**
 * Floor: the edge path's throughput at least this share of HAProxy's. On 2 cores the path is
 * CPU-bound: helper, workerd and gateway each cost ~2.5 CPU-s per GB beside ssh and sshd, where
 * HAProxy splices for ~1 in all (docs/performance.md); below this floor something regressed.
 */
export const THROUGHPUT_RATIO_TARGET = 0.4;
/** Target: the edge path adds at most this much to the interactive round trip's p50 over HAProxy's. */
export const RTT_ADDED_P50_LIMIT_MS = 2;
