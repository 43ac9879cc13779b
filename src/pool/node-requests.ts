/**
 * Checks requests a pool's nodes sign with their Ed25519 keys (heartbeats, re-keys): the node is
 * held here, the token verifies with its key for the request's audience, and its `seq` is above
 * the last accepted one. Imported keys are cached by the JWK text they came from.
 */
import { log } from "../core/log.ts";
import { err, ok, type Result } from "../core/result.ts";
import type { Ed25519PublicJwk, HeartbeatClaims } from "../protocol.ts";
import { importNodeKey, verifyNodeToken } from "../tokens/node-token.ts";
import type { NodeAuth, NodeStore } from "./node-store.ts";
import type { PoolFailure } from "./pool-failure.ts";

/** A request a node signed with its key: routing claims read by the Worker, the token, the body's hash. */
export interface NodeRequestInput {
  pool: string;
  serverId: string;
  token: string;
  /** base64url SHA-256 of the raw body, computed by the Worker. */
  bodyHash: string;
}

export class NodeRequests {
  private readonly nodes: NodeStore;
  private readonly keys = new Map<string, { jwk: string; key: CryptoKey }>();

  constructor(nodes: NodeStore) {
    this.nodes = nodes;
  }

  /**
   * Verifies `input` for `audience`. A node this object does not hold is "unknown-node" (the
   * Worker may recover it from the catalogue and retry). On success the caller must store the
   * returned `seq` before awaiting anything, so the request cannot be replayed.
   */
  async verify(input: NodeRequestInput, audience: HeartbeatClaims["aud"]): Promise<Result<{ seq: number; node: NodeAuth }, PoolFailure>> {
    const stored = this.nodes.getNodeAuth(input.serverId);
    if (!stored) return err("unknown-node");
    const verdict = await verifyNodeToken({
      token: input.token,
      audience,
      key: await this.keyOf(stored),
      serverId: stored.serverId,
      pool: input.pool,
      bodyHash: input.bodyHash,
      lastSeq: stored.lastSeq,
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    if (!verdict.ok) {
      log.warn(`${audience} refused for ${input.serverId}: ${verdict.error.reason}: ${verdict.error.detail}`);
      return err(verdict.error.reason === "stale-sequence" ? "stale-heartbeat" : "bad-heartbeat");
    }
    // Verification awaited, so another beat, a re-key or a removal may have run meanwhile:
    // re-read and re-check right before the caller writes.
    const current = this.nodes.getNodeAuth(stored.serverId);
    if (!current || current.publicKeyJwk !== stored.publicKeyJwk) return err("bad-heartbeat");
    if (verdict.value.seq <= current.lastSeq) return err("stale-heartbeat");
    return ok({ seq: verdict.value.seq, node: current });
  }

  /** Drops a node's cached key (it was re-keyed or removed). */
  forget(serverId: string): void {
    this.keys.delete(serverId);
  }

  private async keyOf(node: NodeAuth): Promise<CryptoKey> {
    const cached = this.keys.get(node.serverId);
    if (cached && cached.jwk === node.publicKeyJwk) return cached.key;
    const key = await importNodeKey(JSON.parse(node.publicKeyJwk) as Ed25519PublicJwk);
    this.keys.set(node.serverId, { jwk: node.publicKeyJwk, key });
    return key;
  }
}
