/**
 * The JWT a node signs for its requests (EdDSA, claims per `heartbeatClaimsSchema`): heartbeats,
 * re-keys with audience `broker:rekey`, channel upgrades with `broker:channel`; and the sequence
 * numbers in it (one counter per agent: the broker accepts each seq once across all three). The token binds the
 * exact body bytes through `bh`, so it cannot be replayed with another body.
 */
import { createHash } from "node:crypto";
import { type CryptoKey, SignJWT } from "jose";
import { CHANNEL_AUDIENCE, HEARTBEAT_AUDIENCE, type HeartbeatClaims, REKEY_AUDIENCE } from "../src/protocol.ts";

/** exp - iat; well under the broker's 60 s maximum. */
export const HEARTBEAT_TOKEN_LIFETIME_SECONDS = 30;

export interface NodeIdentity {
  serverId: string;
  pool: string;
  privateKey: CryptoKey;
}

/** base64url(SHA-256(text as UTF-8)): the `bh` claim. */
export function bodyHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("base64url");
}

export async function signHeartbeatToken(identity: NodeIdentity, bodyText: string, seq: number, nowMs: number): Promise<string> {
  return signNodeToken(identity, bodyText, seq, nowMs, HEARTBEAT_AUDIENCE);
}

/** A re-key request's token: like a heartbeat's, for `broker:rekey`. */
export async function signRekeyToken(identity: NodeIdentity, bodyText: string, seq: number, nowMs: number): Promise<string> {
  return signNodeToken(identity, bodyText, seq, nowMs, REKEY_AUDIENCE);
}

/** The control channel's upgrade token: like a heartbeat's, for `broker:channel`, over no body. */
export async function signChannelToken(identity: NodeIdentity, seq: number, nowMs: number): Promise<string> {
  return signNodeToken(identity, "", seq, nowMs, CHANNEL_AUDIENCE);
}

async function signNodeToken(identity: NodeIdentity, bodyText: string, seq: number, nowMs: number, audience: HeartbeatClaims["aud"]): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const claims: Omit<HeartbeatClaims, "iss" | "aud" | "iat" | "exp"> = { pool: identity.pool, seq, bh: bodyHash(bodyText) };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
    .setIssuer(identity.serverId)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + HEARTBEAT_TOKEN_LIFETIME_SECONDS)
    .sign(identity.privateKey);
}

/**
 * Strictly increasing sequence numbers. `max(last + 1, nowMs)` keeps a restarted agent (which
 * forgot `last`) ahead of what the broker accepted before, as long as the clock did not go back.
 */
export class SeqCounter {
  #last = 0;
  #staleBump = 1_000;

  next(nowMs: number): number {
    this.#last = Math.min(Number.MAX_SAFE_INTEGER, Math.max(this.#last + 1, Math.floor(nowMs)));
    return this.#last;
  }

  /**
   * The broker said our seq is not above its last accepted one (clock stepped back, or a
   * previous agent ran ahead). Jump forward, doubling each time, so any gap closes in a few beats.
   */
  bump(): void {
    this.#last += this.#staleBump;
    this.#staleBump = Math.min(this.#staleBump * 2, 86_400_000);
  }

  /** A beat was accepted: the next stale answer starts from a small bump again. */
  accepted(): void {
    this.#staleBump = 1_000;
  }
}
