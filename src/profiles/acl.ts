/**
 * Profile ACLs with the semantics of X2Go's `check_profile_acls` (x2gobroker 0.0.4
 * `base_broker.py`; our X2Go broker protocol note, section 2). Pure: no I/O, no clock.
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
import type { AclOrder, AclRule, ProfileAcl } from "./profile-schema.ts";

/** The wildcard entry of every ACL list. */
export const ACL_ALL = "ALL";

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

/** An IP address as a number; IPv4-mapped IPv6 client addresses are read as IPv4. */
export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

/** A network (`address/prefix`); a plain address is a /32 or /128. */
export interface IpNetwork extends IpAddress {
  prefix: number;
}

const IPV4_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV4_MAPPED_PREFIX = 0xffffn << 32n;

function parseIpv4(text: string): bigint | null {
  const match = IPV4_PATTERN.exec(text);
  if (!match) return null;
  let value = 0n;
  for (const octet of match.slice(1)) {
    // Leading zeros are refused: some parsers read them as octal.
    if (octet.length > 1 && octet.startsWith("0")) return null;
    const number = Number(octet);
    if (number > 255) return null;
    value = (value << 8n) | BigInt(number);
  }
  return value;
}

function parseHexGroups(text: string): bigint[] | null {
  if (text === "") return [];
  const groups = text.split(":");
  if (groups.some((group) => !/^[0-9A-Fa-f]{1,4}$/.test(group))) return null;
  return groups.map((group) => BigInt(`0x${group}`));
}

function parseIpv6(text: string): bigint | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(":")) return null;
  let source = text;
  if (text.includes(".")) {
    const lastColon = text.lastIndexOf(":");
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    source = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = source.split("::");
  if (halves.length > 2) return null;
  const head = parseHexGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? parseHexGroups(halves[1] ?? "") : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...Array<bigint>(missing).fill(0n), ...tail].reduce((value, group) => (value << 16n) | group, 0n);
}

/** Parses an IPv4 or IPv6 address (no zone id); `::ffff:a.b.c.d` becomes the IPv4 address. */
export function parseIpAddress(text: string): IpAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { version: 4, value: v4 };
  const v6 = parseIpv6(text);
  if (v6 === null) return null;
  if (v6 >> 32n === IPV4_MAPPED_PREFIX >> 32n) return { version: 4, value: v6 & 0xffffffffn };
  return { version: 6, value: v6 };
}

/** Parses an ACL client entry: an IPv4/IPv6 address or CIDR network. Null if it is neither. */
export function parseIpNetwork(text: string): IpNetwork | null {
  const [address = "", prefixText, ...rest] = text.split("/");
  if (rest.length > 0) return null;
  const v4 = parseIpv4(address);
  const version = v4 !== null ? 4 : 6;
  const value = v4 ?? parseIpv6(address);
  if (value === null) return null;
  const bits = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { version, value, prefix: bits };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return null;
  return { version, value, prefix: Number(prefixText) };
}

/** Whether `address` lies in `network`; host bits set in the network are ignored. */
export function networkContains(network: IpNetwork, address: IpAddress): boolean {
  if (network.version !== address.version) return false;
  const shift = BigInt((network.version === 4 ? 32 : 128) - network.prefix);
  return network.value >> shift === address.value >> shift;
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
