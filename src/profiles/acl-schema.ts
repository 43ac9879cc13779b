/** The shape of a profile's ACL (X2Go's `acl-*` keys; semantics in ./acl.ts), validated at the trust boundary. */
import { z } from "zod";
import { parseIpNetwork } from "./ip-network.ts";

/** The wildcard entry of every ACL list. */
export const ACL_ALL = "ALL";
/** Entries per allow or deny list. */
export const MAX_ACL_ENTRIES = 256;

export const aclOrderSchema = z.enum(["allow-deny", "deny-allow"]);
export type AclOrder = z.infer<typeof aclOrderSchema>;

function aclRuleSchema(entry: z.ZodType<string>) {
  const list = z.array(entry).max(MAX_ACL_ENTRIES).default([]);
  return z.strictObject({ allow: list, deny: list, order: aclOrderSchema.default("deny-allow") });
}

const userEntrySchema = z.string().min(1).max(256).regex(/^[^\x00-\x20\x7f,]+$/, "a login has no spaces, commas or control characters");
const groupEntrySchema = z.string().min(1).max(256).regex(/^[^\x00-\x1f\x7f,]+$/, "a group has no commas or control characters");
const clientEntrySchema = z
  .string()
  .max(64)
  .refine((entry) => entry === ACL_ALL || parseIpNetwork(entry) !== null, "not an IPv4/IPv6 address, CIDR network or ALL");

/** `{ allow, deny, order }` per subject kind; lists may contain `ALL`; clients are addresses or CIDRs. */
export const profileAclSchema = z.strictObject({
  users: aclRuleSchema(userEntrySchema).optional(),
  groups: aclRuleSchema(groupEntrySchema).optional(),
  clients: aclRuleSchema(clientEntrySchema).optional(),
});
export type ProfileAcl = z.infer<typeof profileAclSchema>;
export type AclRule = NonNullable<ProfileAcl["users"]>;
