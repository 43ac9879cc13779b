/**
 * OIDC / Cloudflare Access users: the IdP's JWT is verified against its JWKS (jose), with a pinned
 * issuer, audience and list of asymmetric algorithms. Nothing is stored about these users; the
 * token's claims are the identity. The key source is a parameter so tests can use a local JWKS.
 */
import { createRemoteJWKSet, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from "jose";
import { err, ok, type Result } from "../core/result.ts";
import type { Env } from "../env.ts";
import { classifyJoseError, type TokenFailure } from "../tokens/broker-token.ts";
import type { Identity } from "./identity.ts";
import { log } from "../core/log.ts";

export const DEFAULT_OIDC_ALGORITHMS = ["RS256", "ES256"];
export const DEFAULT_OIDC_CLOCK_SKEW_SECONDS = 60;
export const MAX_OIDC_CLOCK_SKEW_SECONDS = 300;
export const DEFAULT_OIDC_LOGIN_CLAIM = "email";
export const DEFAULT_OIDC_GROUPS_CLAIM = "groups";
const MAX_GROUPS = 256;
const MAX_CLAIM_STRING_LENGTH = 256;

/** Only asymmetric algorithms: `none` and HS* (a shared secret with the IdP) are never accepted. */
const ACCEPTABLE_ALGORITHMS = new Set(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"]);

/** Parsed OIDC settings; see `Env` for each variable's meaning and default. */
export interface OidcSettings {
  issuer: string;
  audience: string[];
  jwksUrl: string;
  algorithms: string[];
  clockSkewSeconds: number;
  loginClaim: string;
  groupsClaim: string;
  adminGroups: string[];
}

/** Why an IdP token was refused (for the log; the client gets the generic 401). */
export type OidcFailure = TokenFailure | "no-login-claim";

function commaList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function isAcceptableJwksUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === "https:" || (url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname));
}

const settingsCache = new WeakMap<Env, OidcSettings | null>();

/**
 * The OIDC settings, or null when the backend is off (issuer, audience or JWKS URL unset) or
 * misconfigured (JWKS URL not https, no acceptable algorithm); misconfiguration is logged.
 * Cached per `env` object.
 */
export function oidcSettingsFrom(env: Env): OidcSettings | null {
  const cached = settingsCache.get(env);
  if (cached !== undefined) return cached;
  const settings = parseOidcSettings(env);
  settingsCache.set(env, settings);
  return settings;
}

function parseOidcSettings(env: Env): OidcSettings | null {
  const { OIDC_ISSUER: issuer, OIDC_AUDIENCE: audience, OIDC_JWKS_URL: jwksUrl } = env;
  if (!issuer || !audience || !jwksUrl) return null;
  if (!isAcceptableJwksUrl(jwksUrl)) {
    log.warn("OIDC disabled: OIDC_JWKS_URL must be an https URL");
    return null;
  }
  const requested = env.OIDC_ALGORITHMS ? commaList(env.OIDC_ALGORITHMS) : DEFAULT_OIDC_ALGORITHMS;
  const algorithms = requested.filter((alg) => ACCEPTABLE_ALGORITHMS.has(alg));
  if (algorithms.length < requested.length) log.warn(`OIDC: ignoring unacceptable algorithms in OIDC_ALGORITHMS (${requested.join(",")})`);
  if (algorithms.length === 0) {
    log.warn("OIDC disabled: OIDC_ALGORITHMS names no acceptable asymmetric algorithm");
    return null;
  }
  const skew = Number(env.OIDC_CLOCK_SKEW_SECONDS);
  const clockSkewSeconds =
    env.OIDC_CLOCK_SKEW_SECONDS !== undefined && Number.isInteger(skew) && skew >= 0 ? Math.min(skew, MAX_OIDC_CLOCK_SKEW_SECONDS) : DEFAULT_OIDC_CLOCK_SKEW_SECONDS;
  return {
    issuer,
    audience: commaList(audience),
    jwksUrl,
    algorithms,
    clockSkewSeconds,
    loginClaim: env.OIDC_LOGIN_CLAIM?.trim() || DEFAULT_OIDC_LOGIN_CLAIM,
    groupsClaim: env.OIDC_GROUPS_CLAIM?.trim() || DEFAULT_OIDC_GROUPS_CLAIM,
    adminGroups: commaList(env.OIDC_ADMIN_GROUPS),
  };
}

const remoteKeySources = new Map<string, JWTVerifyGetKey>();

/** The IdP's JWKS fetched over the network, one cached set per URL per isolate (jose caches keys). */
export function remoteKeySource(jwksUrl: string): JWTVerifyGetKey {
  let source = remoteKeySources.get(jwksUrl);
  if (!source) {
    source = createRemoteJWKSet(new URL(jwksUrl));
    remoteKeySources.set(jwksUrl, source);
  }
  return source;
}

/** A claim by exact name (namespaced claims contain dots), else by dotted path (`custom.groups`). */
function claimAt(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let value: unknown = payload;
  for (const part of name.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function isClaimString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_CLAIM_STRING_LENGTH && !/[\s\x00-\x1f]/.test(value);
}

function groupsFrom(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  const groups = items.filter((item): item is string => typeof item === "string" && item.length > 0 && item.length <= MAX_CLAIM_STRING_LENGTH);
  return [...new Set(groups)].slice(0, MAX_GROUPS);
}

/**
 * Verifies an IdP token and maps it to an Identity: login from `loginClaim` (falling back to
 * `sub`), groups from `groupsClaim` (an array of strings or one string), admin if any group is
 * in `adminGroups`. Never throws; the reason is for the log only.
 */
export async function verifyOidcToken(token: string, settings: OidcSettings, keySource: JWTVerifyGetKey): Promise<Result<Identity, OidcFailure>> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keySource, {
      algorithms: settings.algorithms,
      issuer: settings.issuer,
      audience: settings.audience,
      clockTolerance: settings.clockSkewSeconds,
      requiredClaims: ["exp"],
    }));
  } catch (error) {
    return err(classifyJoseError(error));
  }
  const preferred = claimAt(payload, settings.loginClaim);
  const login = isClaimString(preferred) ? preferred : payload.sub;
  if (!isClaimString(login)) return err("no-login-claim");
  const groups = groupsFrom(claimAt(payload, settings.groupsClaim));
  const isAdmin = groups.some((group) => settings.adminGroups.includes(group));
  return ok({ login, groups, isAdmin, isManager: isAdmin, source: "oidc" });
}
