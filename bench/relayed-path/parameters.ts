/** The relayed-path bench's row names and counts, shared by the run (relayed-path.ts) and its table (sections.ts); throughput settings are the gateway bench's. */

export const RELAYED = "client → broker relay → agent gateway → TCP echo";
export const HAPROXY_WEBSOCKIFY = "client → HAProxy → websockify → TCP echo";
export const GATEWAY_ALONE = "client → agent gateway → TCP echo";
export const WEBSOCKIFY_ALONE = "client → websockify → TCP echo";
/** Sequential small-message round trips per path, after 50 untimed. */
export const RTT_MESSAGES = 1_000;
export const RTT_WARMUP = 50;
export const SMALL_BYTES = 32;
/** Sequential connections per path (each relay one with a ticket fetched before). */
export const CONNECTS = 100;
