/**
 * Verifies the short-lived JWT a node signs for each heartbeat (EdDSA with its enrolled Ed25519
 * key). Pure apart from WebCrypto: the caller passes the key, the clock and the last sequence.
 */
import { decodeJwt, errors, importJWK, jwtVerify } from "jose";
import {
  CLOCK_SKEW_SECONDS,
  HEARTBEAT_AUDIENCE,
  MAX_HEARTBEAT_TOKEN_LIFETIME_SECONDS,
  type Ed25519PublicJwk,
  type HeartbeatClaims,
  heartbeatClaimsSchema,
  poolNameSchema,
  serverIdSchema,
} from "../protocol.ts";

export type NodeTokenFailure =
  | "malformed"
  | "unknown-node"
  | "bad-signature"
  | "expired"
  | "not-yet-valid"
  | "bad-claims"
  | "lifetime-too-long"
  | "body-mismatch"
  | "stale-sequence";

export type NodeTokenResult = { ok: true; claims: HeartbeatClaims } | { ok: false; reason: NodeTokenFailure; detail: string };

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
  key: CryptoKey;
  serverId: string;
  pool: string;
  bodyHash: string;
  lastSeq: number;
  nowSeconds: number;
}

export async function verifyNodeToken(input: VerifyNodeTokenInput): Promise<NodeTokenResult> {
  let payload: unknown;
  try {
    const verified = await jwtVerify(input.token, input.key, {
      algorithms: ["EdDSA"],
      audience: HEARTBEAT_AUDIENCE,
      issuer: input.serverId,
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(input.nowSeconds * 1000),
      requiredClaims: ["iat", "exp"],
    });
    payload = verified.payload;
  } catch (error) {
    return { ok: false, ...classifyJoseError(error) };
  }
  const parsed = heartbeatClaimsSchema.safeParse(payload);
  if (!parsed.success) return { ok: false, reason: "bad-claims", detail: parsed.error.message };
  const claims = parsed.data;
  if (claims.pool !== input.pool) return { ok: false, reason: "bad-claims", detail: "pool claim does not match" };
  if (claims.exp - claims.iat > MAX_HEARTBEAT_TOKEN_LIFETIME_SECONDS) {
    return { ok: false, reason: "lifetime-too-long", detail: `exp - iat = ${claims.exp - claims.iat}s` };
  }
  if (claims.iat > input.nowSeconds + CLOCK_SKEW_SECONDS) {
    return { ok: false, reason: "not-yet-valid", detail: "iat is in the future" };
  }
  if (claims.bh !== input.bodyHash) return { ok: false, reason: "body-mismatch", detail: "bh does not match the body" };
  if (claims.seq <= input.lastSeq) {
    return { ok: false, reason: "stale-sequence", detail: `seq ${claims.seq} <= last accepted ${input.lastSeq}` };
  }
  return { ok: true, claims };
}

function classifyJoseError(error: unknown): { reason: NodeTokenFailure; detail: string } {
  if (error instanceof errors.JWTExpired) return { reason: "expired", detail: error.code };
  if (error instanceof errors.JWTClaimValidationFailed) {
    return { reason: error.claim === "nbf" || error.claim === "iat" ? "not-yet-valid" : "bad-claims", detail: `${error.code} ${error.claim}` };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return { reason: "bad-signature", detail: error.code };
  if (error instanceof errors.JOSEError) return { reason: "malformed", detail: error.code };
  return { reason: "malformed", detail: error instanceof Error ? error.message : "unknown error" };
}
