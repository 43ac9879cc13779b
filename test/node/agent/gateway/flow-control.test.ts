import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { DEFAULT_HIGH_WATER_BYTES } from "../../../../agent/gateway/flow.ts";
import { mintAssertion, openLogged, startTcpEndpoint, startTestGateway } from "./helpers.ts";

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x42);
const FLOOD_BYTES = 128 * MiB;

/** Writes up to `maxBytes` as fast as the socket takes them; `acceptedBytes` counts what the kernel took. */
function flood(socket: Socket, maxBytes: number) {
  const state = { acceptedBytes: 0, queuedBytes: 0, waitingForDrain: false };
  const pump = () => {
    state.waitingForDrain = false;
    while (state.queuedBytes < maxBytes) {
      state.queuedBytes += CHUNK.length;
      const more = socket.write(CHUNK, (error) => {
        if (!error) state.acceptedBytes += CHUNK.length;
      });
      if (!more) {
        state.waitingForDrain = true;
        socket.once("drain", pump);
        return;
      }
    }
  };
  pump();
  return state;
}

/** Resolves once `read()` has not changed for `quietMs` (bounded by the test's timeout). */
async function settled(read: () => number, quietMs = 300): Promise<number> {
  let last = read();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const now = read();
    if (now === last) return now;
    last = now;
  }
}

describe("gateway: flow control keeps memory flat", () => {
  it("a client that stops reading pauses the TCP endpoint; the gateway buffers at most its high-water mark", { timeout: 30_000 }, async () => {
    let pushed: ReturnType<typeof flood> | null = null;
    const endpoint = await startTcpEndpoint((socket) => {
      pushed = flood(socket, FLOOD_BYTES);
    });
    const { url, gateway } = await startTestGateway({ "*": endpoint.endpoint });
    const { ws, received } = await openLogged(url, await mintAssertion({ login: "alice", sessionId: "s1" }), ["binary"]);
    ws.pause();
    await expect.poll(() => pushed).not.toBeNull();
    const state = pushed as unknown as ReturnType<typeof flood>;

    const acceptedWhileStalled = await settled(() => state.acceptedBytes);
    expect(state.waitingForDrain).toBe(true);
    // Held back after the kernel buffers on the way filled: a fraction of what the endpoint tried to send.
    expect(acceptedWhileStalled).toBeLessThan(FLOOD_BYTES / 4);
    const [live] = gateway.connections.list();
    expect(live).toMatchObject({ readingEndpoint: false, readingClient: true });
    expect(live!.toClientPendingBytes).toBeLessThanOrEqual(DEFAULT_HIGH_WATER_BYTES + CHUNK.length);

    ws.resume();
    const receivedBytes = () => received.reduce((sum, chunk) => sum + chunk.length, 0);
    await expect.poll(receivedBytes, { timeout: 20_000, interval: 50 }).toBe(FLOOD_BYTES);
    expect(gateway.connections.list()[0]).toMatchObject({ readingEndpoint: true, toClientPendingBytes: 0 });
  });

  it("an endpoint that stops reading pauses the client; the gateway buffers at most its high-water mark", { timeout: 30_000 }, async () => {
    const endpoint = await startTcpEndpoint((socket) => socket.pause());
    const { url, gateway } = await startTestGateway({ "*": endpoint.endpoint });
    const { ws } = await openLogged(url, await mintAssertion({ login: "alice", sessionId: "s1" }), ["binary"]);
    for (let sent = 0; sent < 64 * MiB; sent += CHUNK.length) ws.send(CHUNK);
    await expect.poll(() => gateway.connections.list()[0]?.readingClient, { timeout: 10_000 }).toBe(false);
    await settled(() => ws.bufferedAmount);
    const [live] = gateway.connections.list();
    expect(live!.toEndpointPendingBytes).toBeLessThanOrEqual(DEFAULT_HIGH_WATER_BYTES + CHUNK.length);
    // The rest waits in the client's own buffer, not in the gateway.
    expect(ws.bufferedAmount).toBeGreaterThan(32 * MiB);

    const socket = await endpoint.nextConnection();
    let drained = 0;
    socket.on("data", (chunk: Buffer) => (drained += chunk.length));
    socket.resume();
    await expect.poll(() => drained, { timeout: 20_000, interval: 50 }).toBe(64 * MiB);
  });
});
