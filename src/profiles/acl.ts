/**
 * Profile ACLs with the semantics of X2Go's `check_profile_acls` (x2gobroker 0.0.4
 * `base_broker.py`). Pure: no I/O, no clock.
 *
 * - A rule is in use when its allow or deny list is non-empty; `order` alone changes nothing.
 * - Order: the first-named list wins when both match (`allow-deny`: an allow match wins;
 *   `deny-allow`, the default: a deny match wins). `ALL` matches everything.
 * - Clients are checked first and must pass: with a client rule in use, an address that matches
 *   neither list, or a request without an address, is refused.
 * - No user and no group rule: allowed. Otherwise a user rule that allows is enough; a group rule
 *   that allows works unless the login is named in the user deny list (a deny through `ALL` does
 *   not block a group allow). Anything else is refused, so a deny-only list hides the profile
 *   from everybody, as in X2Go.
 */
import { ACL_ALL, type AclOrder, type AclRule, type ProfileAcl } from "./acl-schema.ts";
import { type IpAddress, networkContains, parseIpAddress, parseIpNetwork } from "./ip-network.ts";

/** Who asks: the login and the groups the authentication backend vouched for. */
export interface AclSubject {
  login: string;
  groups: readonly string[];
}

/** The outcome with a short human reason, for logs (never for the user). */
export interface AclVerdict {
  allowed: boolean;
  reason: string;
}

function clientListMatches(entries: readonly string[], address: IpAddress): boolean {
  return entries.some((entry) => {
    if (entry === ACL_ALL) return true;
    const network = parseIpNetwork(entry);
    return network !== null && networkContains(network, address);
  });
}

/** `true` allow, `false` deny, `null` neither list matched. */
function decide(allowMatch: boolean, denyMatch: boolean, order: AclOrder): boolean | null {
  if (order === "allow-deny") return allowMatch ? true : denyMatch ? false : null;
  return denyMatch ? false : allowMatch ? true : null;
}

function inUse(rule: AclRule | undefined): rule is AclRule {
  return rule !== undefined && rule.allow.length + rule.deny.length > 0;
}

function describe(verdict: boolean | null, what: string): string {
  return verdict === null ? `no ${what} rule matches` : `the ${what} rule ${verdict ? "allows" : "denies"}`;
}

/** Evaluates a profile's ACL for a subject and client address, with the reason. */
export function checkProfileAcl(acl: ProfileAcl, subject: AclSubject, clientIp?: string): AclVerdict {
  if (inUse(acl.clients)) {
    const address = clientIp === undefined ? null : parseIpAddress(clientIp);
    if (address === null) return { allowed: false, reason: "a client rule is in use and the client address is missing or invalid" };
    const { allow, deny, order } = acl.clients;
    const verdict = decide(clientListMatches(allow, address), clientListMatches(deny, address), order);
    if (verdict !== true) return { allowed: false, reason: `${describe(verdict, "client")} ${clientIp}` };
  }
  const users = inUse(acl.users) ? acl.users : undefined;
  const groups = inUse(acl.groups) ? acl.groups : undefined;
  if (!users && !groups) return { allowed: true, reason: "no user or group rule is in use" };

  const reasons: string[] = [];
  const namedInDeny = users?.deny.includes(subject.login) ?? false;
  if (users) {
    const allowMatch = users.allow.includes(subject.login) || users.allow.includes(ACL_ALL);
    const verdict = decide(allowMatch, namedInDeny || users.deny.includes(ACL_ALL), users.order);
    if (verdict === true) return { allowed: true, reason: `the user rule allows ${subject.login}` };
    reasons.push(`${describe(verdict, "user")} ${subject.login}`);
  }
  if (groups) {
    const memberOf = new Set([ACL_ALL, ...subject.groups]);
    const matches = (list: readonly string[]) => list.some((group) => memberOf.has(group));
    const verdict = decide(matches(groups.allow), matches(groups.deny), groups.order);
    if (verdict === true && !namedInDeny) return { allowed: true, reason: "the group rule allows" };
    reasons.push(verdict === true ? "the group rule allows, but the user deny list names the login" : describe(verdict, "group"));
  }
  return { allowed: false, reason: reasons.join("; ") };
}

/** Whether the profile is visible to and selectable by the subject (see `checkProfileAcl`). */
export function profileAllows(acl: ProfileAcl, subject: AclSubject, clientIp?: string): boolean {
  return checkProfileAcl(acl, subject, clientIp).allowed;
}
