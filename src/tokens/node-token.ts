/**
 * Verifies the short-lived JWTs a node signs with its enrolled Ed25519 key (EdDSA) for its
 * requests: heartbeats and re-keys, told apart by audience. Pure apart from WebCrypto: the
 * caller passes the key, the clock and the last sequence.
 */
import { decodeJwt, importJWK, jwtVerify } from "jose";
import { err, ok, type Result } from "../core/result.ts";
import {
  CLOCK_SKEW_SECONDS,
  MAX_HEARTBEAT_TOKEN_LIFETIME_SECONDS,
  type Ed25519PublicJwk,
  type HeartbeatClaims,
  heartbeatClaimsSchema,
  poolNameSchema,
  serverIdSchema,
} from "../protocol.ts";
import { classifyJoseError, type TokenFailure } from "./broker-token.ts";

/** A refused node token: the reason (closed), and a detail for the log. */
export interface NodeTokenFailure {
  reason: TokenFailure | "body-mismatch" | "stale-sequence";
  detail: string;
}

/** Reads the routing claims (pool, serverId) without verifying; the pool object verifies. */
export function peekNodeToken(token: string): { pool: string; serverId: string } | null {
  try {
    const claims = decodeJwt(token);
    const pool = poolNameSchema.safeParse(claims["pool"]);
    const serverId = serverIdSchema.safeParse(claims.iss);
    return pool.success && serverId.success ? { pool: pool.data, serverId: serverId.data } : null;
  } catch {
    return null;
  }
}

export async function importNodeKey(jwk: Ed25519PublicJwk): Promise<CryptoKey> {
  const key = await importJWK({ ...jwk, alg: "EdDSA" }, "EdDSA");
  if (!(key instanceof CryptoKey)) throw new Error("expected a CryptoKey for an OKP JWK");
  return key;
}

export interface VerifyNodeTokenInput {
  token: string;
  /** What the token is for: a heartbeat or a re-key (the same key, `seq` and freshness rules). */
  audience: HeartbeatClaims["aud"];
  key: CryptoKey;
  serverId: string;
  pool: string;
  bodyHash: string;
  lastSeq: number;
  nowSeconds: number;
}

export async function verifyNodeToken(input: VerifyNodeTokenInput): Promise<Result<HeartbeatClaims, NodeTokenFailure>> {
  let payload: unknown;
  try {
    const verified = await jwtVerify(input.token, input.key, {
      algorithms: ["EdDSA"],
      audience: input.audience,
      issuer: input.serverId,
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(input.nowSeconds * 1000),
      requiredClaims: ["iat", "exp"],
    });
    payload = verified.payload;
  } catch (error) {
    return err({ reason: classifyJoseError(error), detail: error instanceof Error ? error.message : String(error) });
  }
  const parsed = heartbeatClaimsSchema.safeParse(payload);
  if (!parsed.success) return err({ reason: "bad-claims", detail: parsed.error.message });
  const claims = parsed.data;
  if (claims.pool !== input.pool) return err({ reason: "bad-claims", detail: "pool claim does not match" });
  if (claims.exp - claims.iat > MAX_HEARTBEAT_TOKEN_LIFETIME_SECONDS) {
    return err({ reason: "lifetime-too-long", detail: `exp - iat = ${claims.exp - claims.iat}s` });
  }
  if (claims.iat > input.nowSeconds + CLOCK_SKEW_SECONDS) {
    return err({ reason: "not-yet-valid", detail: "iat is in the future" });
  }
  if (claims.bh !== input.bodyHash) return err({ reason: "body-mismatch", detail: "bh does not match the body" });
  if (claims.seq <= input.lastSeq) {
    return err({ reason: "stale-sequence", detail: `seq ${claims.seq} <= last accepted ${input.lastSeq}` });
  }
  return ok(claims);
}
