/**
 * Relay tickets: broker-signed tokens that let one client open one relay to one server for one
 * session, within a minute. Single use: the `jti` nonce is spent in the pool's Durable Object
 * when the relay is opened.
 */
import { z } from "zod";
import type { Identity } from "../auth/identity.ts";
import { poolNameSchema, serverIdSchema } from "../protocol.ts";
import { signToken, type TokenClaims, type TokenKind } from "./broker-token.ts";

export const RELAY_AUDIENCE = "relay";
/** A ticket is for connecting now: at most this long. */
export const RELAY_TICKET_LIFETIME_SECONDS = 60;
/**
 * Largest `plc` claim, as JSON. The ticket travels in a URL query or a `Sec-WebSocket-Protocol`
 * header: with this bound it stays near 3 KiB, far below the limits of browsers and of
 * Cloudflare's edge (16 KiB URL, 32 KiB of headers).
 */
export const MAX_PLACEMENT_CLAIM_CHARS = 2048;

const identitySourceSchema = z.enum(["password", "oidc", "admin-token"]) satisfies z.ZodType<Identity["source"]>;

/**
 * What the first placement of a new session knew besides the login: the user's groups and flags
 * as the authentication backend vouched for them at the start, and the request data. The relay
 * sees only the ticket, and OIDC users have no D1 row to read again, so the ticket carries them
 * (signed, at most a minute old). Absent when they do not fit: the relay then has no fallback.
 */
export const placementClaimSchema = z
  .strictObject({
    grp: z.array(z.string().min(1).max(256)).max(256),
    adm: z.boolean(),
    mgr: z.boolean(),
    src: identitySourceSchema,
    dat: z.record(z.string().min(1).max(64), z.json()),
  })
  .refine((claim) => JSON.stringify(claim).length <= MAX_PLACEMENT_CLAIM_CHARS, `at most ${MAX_PLACEMENT_CLAIM_CHARS} characters`);
export type PlacementClaim = z.infer<typeof placementClaimSchema>;

const relayClaims = {
  pool: poolNameSchema,
  srv: serverIdSchema,
  /** The session it is for: an existing session's id, or the reservation of a new one. */
  sid: z.string().min(1).max(256),
  /** The profile it was issued for, so a failed new session can be placed again within it. */
  prf: z.string().max(64).optional(),
  plc: placementClaimSchema.optional(),
};

export const RELAY_TICKET: TokenKind<typeof relayClaims> = {
  audience: RELAY_AUDIENCE,
  lifetimeSeconds: RELAY_TICKET_LIFETIME_SECONDS,
  clockToleranceSeconds: 5,
  claims: relayClaims,
};
export type RelayTicketClaims = TokenClaims<typeof relayClaims>;

export interface RelayTicketSubject {
  login: string;
  pool: string;
  serverId: string;
  sessionId: string;
  profileId?: string;
  /** For a new session: who was placed and with what data, so the relay can place again alike. */
  placement?: { identity: Identity; data: Record<string, unknown> };
}

/** The `plc` claim for a placement, or undefined when it is over MAX_PLACEMENT_CLAIM_CHARS. */
export function placementClaim(placement: NonNullable<RelayTicketSubject["placement"]>): PlacementClaim | undefined {
  const { identity, data } = placement;
  const parsed = placementClaimSchema.safeParse({ grp: identity.groups, adm: identity.isAdmin, mgr: identity.isManager, src: identity.source, dat: data });
  return parsed.success ? parsed.data : undefined;
}

/** The identity a `plc` claim vouches for, as at the first placement. */
export function placementIdentity(login: string, claim: PlacementClaim): Identity {
  return { login, groups: claim.grp, isAdmin: claim.adm, isManager: claim.mgr, source: claim.src };
}

export async function issueRelayTicket(key: Uint8Array, subject: RelayTicketSubject, nowMs: number): Promise<{ ticket: string; expiresAt: number }> {
  const plc = subject.placement ? placementClaim(subject.placement) : undefined;
  const claims = { pool: subject.pool, srv: subject.serverId, sid: subject.sessionId, ...(subject.profileId ? { prf: subject.profileId } : {}), ...(plc ? { plc } : {}) };
  const { token, expiresAt } = await signToken(key, RELAY_TICKET, subject.login, claims, nowMs);
  return { ticket: token, expiresAt };
}
