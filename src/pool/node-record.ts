/** Converts a catalogue row into what the pool object stores for a node. */
import type { NodeRow } from "../db/schema.ts";
import type { Ed25519PublicJwk, StaticData } from "../protocol.ts";
import type { NodeRecord } from "./node-store.ts";

export function nodeRecordFromRow(row: NodeRow): NodeRecord {
  return {
    serverId: row.serverId,
    hostname: row.hostname,
    publicKey: JSON.parse(row.publicKeyJwk) as Ed25519PublicJwk,
    originUrl: row.originUrl,
    clientAddress: row.clientAddress,
    staticOverrides: JSON.parse(row.staticOverrides) as StaticData,
    draining: row.draining,
    enrolledAt: row.enrolledAt,
    approved: row.approved,
    assertionSalt: row.assertionSalt,
  };
}
