/**
 * Placement requests as clients and admins make them (select and dry runs): the body, validated at
 * the HTTP boundary, and the rule for whom a caller may place.
 */
import { z } from "zod";
import type { Identity } from "../auth/identity.ts";
import { BrokerError } from "../core/errors.ts";
import { serverIdSchema } from "../protocol.ts";
import type { SelectRequest } from "../pool/select-request.ts";

/** Looser than stored logins on purpose: OIDC logins (emails) and X2Go users are placed too. */
const placementLoginSchema = z.string().min(1).max(256).regex(/^[^\s\x00-\x1f]+$/, "a login has no spaces or control characters");

export const selectUserSchema = z.strictObject({
  login: placementLoginSchema,
  groups: z.array(z.string().min(1).max(256)).max(256).default([]),
  isAdmin: z.boolean().default(false),
  isManager: z.boolean().default(false),
  serverId: serverIdSchema.optional(),
});
export type SelectUser = z.infer<typeof selectUserSchema>;

export const selectBodySchema = z.strictObject({
  action: z.enum(["user/login", "session/start"]).default("session/start"),
  user: selectUserSchema,
  /** Request data the steps read (`require`, `group`, `avoid`, …): JSON values only. */
  data: z.record(z.string().min(1).max(64), z.json()).default({}),
});
export type SelectBody = z.infer<typeof selectBodySchema>;

/**
 * Whom a placement is for: the caller as the broker knows them, or, for admins only, the user
 * they name. Anyone else naming another user gets 403.
 */
export function placementUser(identity: Identity, asked?: SelectUser): SelectRequest["user"] {
  if (asked && identity.isAdmin) return asked;
  if (asked && asked.login !== identity.login) throw new BrokerError("FORBIDDEN", "only admins may select for another user");
  return { login: identity.login, groups: identity.groups, isAdmin: identity.isAdmin, isManager: identity.isManager };
}
