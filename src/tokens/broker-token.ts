/**
 * The one home of broker-signed tokens: HS256 JWTs with issuer `edge-session-broker`, signed with
 * SIGNING_KEY (or, for node assertions, a node's own key). Each token kind (user session, relay
 * ticket, dashboard session, node assertion) is a `TokenKind`: an audience, a lifetime and the
 * schema of its own claims; this module signs and verifies them all the same way. Runtime-neutral
 * (jose and zod only), so the agent verifies node assertions with it too.
 */
import { errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { randomToken } from "../core/crypto.ts";
import { err, ok, type Result } from "../core/result.ts";

export const BROKER_ISSUER = "edge-session-broker";
export const MIN_SIGNING_KEY_LENGTH = 32;

export interface TokenKind<Claims extends z.ZodRawShape> {
  audience: string;
  /** Longest life a token of this kind may have (exp - iat), and the oldest `iat` accepted. */
  lifetimeSeconds: number;
  /** Allowed clock difference when checking `iat` and `exp`. */
  clockToleranceSeconds: number;
  /** The kind's own claims, besides iss, aud, sub, jti, iat and exp. */
  claims: Claims;
}

/** Why a token was refused: logged, never returned to the client (it gets the generic 401). */
export type TokenFailure = "malformed" | "bad-algorithm" | "unknown-key" | "bad-signature" | "expired" | "not-yet-valid" | "bad-claims" | "lifetime-too-long";

const standardClaims = {
  iss: z.literal(BROKER_ISSUER),
  sub: z.string().min(1).max(256),
  jti: z.string().min(16).max(64),
  iat: z.number().int(),
  exp: z.number().int(),
};

interface StandardClaims {
  iss: string;
  aud: string;
  sub: string;
  jti: string;
  iat: number;
  exp: number;
}
export type TokenClaims<Claims extends z.ZodRawShape> = StandardClaims & z.infer<z.ZodObject<Claims>>;

/** The signing key from a secret, or null when it is unset or shorter than MIN_SIGNING_KEY_LENGTH. */
export function signingKey(secret: string | undefined): Uint8Array | null {
  if (!secret || secret.length < MIN_SIGNING_KEY_LENGTH) return null;
  return new TextEncoder().encode(secret);
}

export interface SignedToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** Signs a token of `kind` for `subject`, valid from `nowMs` for the kind's lifetime, with a random `jti`. */
export async function signToken<Claims extends z.ZodRawShape>(
  key: Uint8Array,
  kind: TokenKind<Claims>,
  subject: string,
  claims: z.input<z.ZodObject<Claims>>,
  nowMs: number,
): Promise<SignedToken> {
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + kind.lifetimeSeconds;
  const token = await new SignJWT(claims as Record<string, unknown>)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(BROKER_ISSUER)
    .setAudience(kind.audience)
    .setSubject(subject)
    .setJti(randomToken(18))
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key);
  return { token, expiresAt: exp * 1000 };
}

/**
 * Checks the signature (HS256 only), issuer, audience, lifetime (issued neither in the future nor
 * longer ago than the kind's lifetime, and not living longer than it) and the claims' shape.
 * Never throws.
 */
export async function verifyToken<Claims extends z.ZodRawShape>(
  key: Uint8Array,
  kind: TokenKind<Claims>,
  token: string,
  nowMs: number,
): Promise<Result<TokenClaims<Claims>, TokenFailure>> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      audience: kind.audience,
      issuer: BROKER_ISSUER,
      currentDate: new Date(nowMs),
      clockTolerance: kind.clockToleranceSeconds,
      maxTokenAge: kind.lifetimeSeconds,
      requiredClaims: ["sub", "jti", "iat", "exp"],
    }));
  } catch (error) {
    return err(classifyJoseError(error));
  }
  const parsed = z.object({ ...standardClaims, ...kind.claims }).safeParse(payload);
  if (!parsed.success) return err("bad-claims");
  const claims = { ...parsed.data, aud: kind.audience } as TokenClaims<Claims>;
  if (claims.exp - claims.iat > kind.lifetimeSeconds) return err("lifetime-too-long");
  return ok(claims);
}

/** Maps jose's errors onto the closed set of failures. */
export function classifyJoseError(error: unknown): TokenFailure {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) return error.claim === "nbf" || error.claim === "iat" ? "not-yet-valid" : "bad-claims";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad-signature";
  if (error instanceof errors.JOSEAlgNotAllowed) return "bad-algorithm";
  if (error instanceof errors.JWKSNoMatchingKey) return "unknown-key";
  return "malformed";
}
