/** The imported Ed25519 keys of a pool's nodes, cached by the JWK text they were imported from. */
import type { Ed25519PublicJwk } from "../protocol.ts";
import { importNodeKey } from "../tokens/heartbeat-token.ts";
import type { NodeAuth } from "./node-store.ts";

export class NodeKeys {
  private readonly keys = new Map<string, { jwk: string; key: CryptoKey }>();

  /** The node's verification key; imported once per enrolled key. */
  async keyOf(node: NodeAuth): Promise<CryptoKey> {
    const cached = this.keys.get(node.serverId);
    if (cached && cached.jwk === node.publicKeyJwk) return cached.key;
    const key = await importNodeKey(JSON.parse(node.publicKeyJwk) as Ed25519PublicJwk);
    this.keys.set(node.serverId, { jwk: node.publicKeyJwk, key });
    return key;
  }

  forget(serverId: string): void {
    this.keys.delete(serverId);
  }
}
