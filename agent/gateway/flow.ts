/**
 * Backpressure for one direction of a bridged connection. Every chunk written to the receiving
 * side counts as pending until its write callback says the kernel took it; above
 * `highWaterBytes` pending the sending side is paused (it stops reading, so its own peer is held
 * back by TCP), and at or below `lowWaterBytes` it is resumed. This is a stream's 'drain' with
 * explicit marks: a stalled reader costs the gateway at most high-water plus one chunk per
 * direction, however much the other side tries to send.
 */

/** Per direction: enough to keep 64 KiB frames streaming between two loopback sockets. */
export const DEFAULT_HIGH_WATER_BYTES = 1024 * 1024;
export const DEFAULT_LOW_WATER_BYTES = 256 * 1024;

export interface FlowLimits {
  highWaterBytes: number;
  lowWaterBytes: number;
}

export const DEFAULT_FLOW_LIMITS: FlowLimits = { highWaterBytes: DEFAULT_HIGH_WATER_BYTES, lowWaterBytes: DEFAULT_LOW_WATER_BYTES };

export interface FlowGate {
  /** Counts `bytes` as pending; returns the callback for the write's completion (call it once). */
  sent(bytes: number): () => void;
  /** Bytes written to the receiving side and not yet taken by the kernel. */
  readonly pendingBytes: number;
  /** True while the sending side is paused by this gate. */
  readonly holding: boolean;
}

export function createFlowGate(limits: FlowLimits, sender: { pause(): void; resume(): void }): FlowGate {
  let pendingBytes = 0;
  let holding = false;
  return {
    sent(bytes) {
      pendingBytes += bytes;
      if (!holding && pendingBytes > limits.highWaterBytes) {
        holding = true;
        sender.pause();
      }
      return () => {
        pendingBytes -= bytes;
        if (holding && pendingBytes <= limits.lowWaterBytes) {
          holding = false;
          sender.resume();
        }
      };
    },
    get pendingBytes() {
      return pendingBytes;
    },
    get holding() {
      return holding;
    },
  };
}
