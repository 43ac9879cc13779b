import { describe, expect, it } from "vitest";
import { checkProfileAcl, profileAllows } from "../../../src/profiles/acl.ts";
import { type ProfileAcl, profileAclSchema } from "../../../src/profiles/acl-schema.ts";
import { networkContains, parseIpAddress, parseIpNetwork } from "../../../src/profiles/ip-network.ts";

const acl = (input: unknown): ProfileAcl => profileAclSchema.parse(input);
const alice = { login: "alice", groups: ["staff"] };
const bob = { login: "bob", groups: ["students"] };
const mallory = { login: "mallory", groups: ["staff"] };

describe("profileAllows: user and group rules (X2Go check_profile_acls)", () => {
  it.each<{ name: string; acl: unknown; subject: { login: string; groups: string[] }; allowed: boolean }>([
    { name: "no rule at all: visible", acl: {}, subject: bob, allowed: true },
    { name: "an order alone is no rule: visible", acl: { users: { order: "allow-deny" } }, subject: bob, allowed: true },
    {
      name: "reference example: allow=alice, deny=ALL, deny-allow hides the profile from alice too",
      acl: { users: { allow: ["alice"], deny: ["ALL"], order: "deny-allow" } },
      subject: alice,
      allowed: false,
    },
    { name: "deny-allow is the default order", acl: { users: { allow: ["alice"], deny: ["ALL"] } }, subject: alice, allowed: false },
    {
      name: "allow=alice, deny=ALL, allow-deny: alice sees it",
      acl: { users: { allow: ["alice"], deny: ["ALL"], order: "allow-deny" } },
      subject: alice,
      allowed: true,
    },
    {
      name: "allow=alice, deny=ALL, allow-deny: bob does not",
      acl: { users: { allow: ["alice"], deny: ["ALL"], order: "allow-deny" } },
      subject: bob,
      allowed: false,
    },
    { name: "allow-only list: the named user sees it", acl: { users: { allow: ["alice"] } }, subject: alice, allowed: true },
    { name: "allow-only list: nobody else (nothing matched)", acl: { users: { allow: ["alice"] } }, subject: bob, allowed: false },
    { name: "deny-only list hides the profile from everybody", acl: { users: { deny: ["mallory"] } }, subject: alice, allowed: false },
    { name: "allow=ALL lets everybody in", acl: { users: { allow: ["ALL"] } }, subject: bob, allowed: true },
    {
      name: "allow=ALL and deny=bob with deny-allow: bob refused",
      acl: { users: { allow: ["ALL"], deny: ["bob"] } },
      subject: bob,
      allowed: false,
    },
    {
      name: "allow=ALL and deny=bob with allow-deny: the allow wins",
      acl: { users: { allow: ["ALL"], deny: ["bob"], order: "allow-deny" } },
      subject: bob,
      allowed: true,
    },
    { name: "logins match exactly (case-sensitive)", acl: { users: { allow: ["Alice"] } }, subject: alice, allowed: false },
    {
      name: "group allow=staff, deny=ALL, deny-allow: the deny through ALL wins",
      acl: { groups: { allow: ["staff"], deny: ["ALL"] } },
      subject: alice,
      allowed: false,
    },
    {
      name: "group allow=staff, deny=ALL, allow-deny: staff see it",
      acl: { groups: { allow: ["staff"], deny: ["ALL"], order: "allow-deny" } },
      subject: alice,
      allowed: true,
    },
    {
      name: "group allow=staff, deny=ALL, allow-deny: students do not",
      acl: { groups: { allow: ["staff"], deny: ["ALL"], order: "allow-deny" } },
      subject: bob,
      allowed: false,
    },
    { name: "group allow=ALL matches users without groups", acl: { groups: { allow: ["ALL"] } }, subject: { login: "x", groups: [] }, allowed: true },
    {
      name: "an explicit user allow is enough against a group deny",
      acl: { users: { allow: ["bob"] }, groups: { deny: ["students"] } },
      subject: bob,
      allowed: true,
    },
    {
      name: "a group allow works when no user rule matches",
      acl: { users: { allow: ["carol"] }, groups: { allow: ["staff"] } },
      subject: alice,
      allowed: true,
    },
    {
      name: "a group allow does not override a user deny naming the login",
      acl: { users: { deny: ["mallory"] }, groups: { allow: ["ALL"] } },
      subject: mallory,
      allowed: false,
    },
    {
      name: "a group allow works despite a user deny through ALL",
      acl: { users: { allow: ["carol"], deny: ["ALL"] }, groups: { allow: ["staff"] } },
      subject: alice,
      allowed: true,
    },
  ])("$name", ({ acl: input, subject, allowed }) => {
    expect(profileAllows(acl(input), subject)).toBe(allowed);
  });
});

describe("profileAllows: client rules", () => {
  const lan = acl({ clients: { allow: ["10.0.0.0/8", "2001:db8::/32"], deny: ["ALL"], order: "allow-deny" } });

  it.each([
    ["10.1.2.3", true],
    ["11.0.0.1", false],
    ["2001:db8:1::5", true],
    ["2001:db9::1", false],
    ["::ffff:10.9.9.9", true],
  ])("allow=10/8,2001:db8::/32 deny=ALL allow-deny: %s → %s", (ip, allowed) => {
    expect(profileAllows(lan, alice, ip)).toBe(allowed);
  });

  it("refuses when a client rule is in use and the address is missing or garbage", () => {
    expect(checkProfileAcl(lan, alice)).toMatchObject({ allowed: false, reason: expect.stringContaining("client address") });
    expect(profileAllows(lan, alice, "not-an-ip")).toBe(false);
  });

  it("refuses an address neither list matches", () => {
    expect(profileAllows(acl({ clients: { allow: ["192.168.0.0/16"] } }), alice, "10.0.0.1")).toBe(false);
  });

  it("with deny-allow, a deny match wins over an allow match", () => {
    const rule = acl({ clients: { allow: ["10.0.0.0/8"], deny: ["10.6.6.0/24"] } });
    expect(profileAllows(rule, alice, "10.6.6.6")).toBe(false);
    expect(profileAllows(rule, alice, "10.7.7.7")).toBe(true);
  });

  it("checks clients first: a passing user rule does not help a refused client", () => {
    const rule = acl({ clients: { allow: ["10.0.0.0/8"] }, users: { allow: ["alice"] } });
    expect(profileAllows(rule, alice, "192.0.2.1")).toBe(false);
    expect(profileAllows(rule, alice, "10.0.0.1")).toBe(true);
    expect(profileAllows(rule, bob, "10.0.0.1")).toBe(false);
  });

  it("gives a reason for the log", () => {
    const verdict = checkProfileAcl(acl({ users: { allow: ["alice"], deny: ["ALL"] } }), alice);
    expect(verdict).toEqual({ allowed: false, reason: "the user rule denies alice" });
  });
});

describe("IP parsing", () => {
  it.each(["1.2.3.4", "0.0.0.0", "255.255.255.255", "::", "::1", "2001:db8::1", "fe80::1:2:3:4:5", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4", "64:ff9b::192.0.2.33"])(
    "accepts %s",
    (text) => expect(parseIpAddress(text)).not.toBeNull(),
  );

  it.each(["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1::", "1:::2", "fe80::1%eth0", "12345::", "::g", "1.2.3.4:22"])(
    "refuses %s",
    (text) => expect(parseIpAddress(text)).toBeNull(),
  );

  it("reads IPv4-mapped IPv6 addresses as IPv4", () => {
    expect(parseIpAddress("::ffff:1.2.3.4")).toEqual(parseIpAddress("1.2.3.4"));
  });

  it.each<[string, string, boolean]>([
    ["10.0.0.0/8", "10.255.0.1", true],
    ["10.0.0.0/8", "11.0.0.0", false],
    ["10.1.2.3/8", "10.9.9.9", true],
    ["0.0.0.0/0", "203.0.113.9", true],
    ["192.0.2.7", "192.0.2.7", true],
    ["192.0.2.7", "192.0.2.8", false],
    ["2001:db8::/32", "2001:db8:ffff::1", true],
    ["2001:db8::/33", "2001:db8:8000::1", false],
    ["::/0", "2001:db8::1", true],
    ["::/0", "10.0.0.1", false],
  ])("%s contains %s: %s", (network, address, expected) => {
    const parsedNetwork = parseIpNetwork(network);
    const parsedAddress = parseIpAddress(address);
    if (!parsedNetwork || !parsedAddress) throw new Error("fixture does not parse");
    expect(networkContains(parsedNetwork, parsedAddress)).toBe(expected);
  });

  it.each(["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8/8", "ALL", "10.0.0.0/-1"])("refuses the network %s", (text) => {
    expect(parseIpNetwork(text)).toBeNull();
  });
});
