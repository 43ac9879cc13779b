/**
 * The stalled-reader phase of the relay bench: a client that stops reading while the node
 * pushes as fast as it can, to show whether the relay holds the sender back (backpressure end
 * to end) or buffers everything. Bounded in bytes and time; loopback only.
 */
import { WebSocket } from "ws";
import { rssBytes, sampleRss } from "../../test/harness/proc.ts";
import { closeSocket, openSocket } from "./client.ts";
import type { FloodReport } from "./endpoints.ts";

export interface StallResult {
  /** Bytes the node's socket accepted while the client read nothing. */
  pushedBytes: number;
  /** Of which in the second half of the stall (≈ 0: the sender was held back). */
  pushedSecondHalfBytes: number;
  stallMs: number;
  /** Relay process RSS: before, peak during the stall, and 1 s after the connection closed. */
  rssBefore: number;
  rssPeak: number;
  rssAfter: number;
  /** Bytes the client got once it read again (all that was pushed, or the relay lost data). */
  drainedBytes: number;
}

/**
 * The client stops reading (its socket is paused) and asks the node to push 64 KiB frames as
 * fast as it can for `maxMs` (or `maxBytes`). With backpressure end to end the node's socket
 * stops accepting once the buffers on the way are full; without it the relay buffers it all.
 * Then the client reads again, drains everything and closes.
 */
export async function stalledReader(url: string, relayPid: number | null, flood: () => Promise<FloodReport>, maxBytes: number, maxMs: number): Promise<StallResult> {
  const { ws } = await openSocket(url);
  let drained = 0;
  ws.on("message", (data: Buffer) => (drained += data.length));
  ws.pause();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const rssBefore = relayPid === null ? Number.NaN : rssBytes(relayPid);
  const sampler = relayPid === null ? null : sampleRss(relayPid);
  const report = flood();
  ws.send(`flood ${maxBytes} ${maxMs}`);
  const pushed = await report;
  const rssPeak = sampler ? sampler.stop() : Number.NaN;
  ws.resume();
  const deadline = performance.now() + 15_000;
  while (drained < pushed.acceptedBytes && performance.now() < deadline && ws.readyState === WebSocket.OPEN) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await closeSocket(ws);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const rssAfter = relayPid === null ? Number.NaN : rssBytes(relayPid);
  return {
    pushedBytes: pushed.acceptedBytes,
    pushedSecondHalfBytes: pushed.acceptedBytes - pushed.acceptedAtHalfBytes,
    stallMs: pushed.ms,
    rssBefore,
    rssPeak,
    rssAfter,
    drainedBytes: drained,
  };
}
