import { describe, expect, it } from "vitest";
import { profileSchema, storedProfileSchema } from "../../../src/profiles/profile-schema.ts";

const minimal = { id: "p1", name: "Profile 1", pool: "default", mode: "relay" };

describe("profileSchema", () => {
  it("fills defaults: whole pool, TERMINAL, no policy, no ACL, no options, 3 sessions per user, no wait line", () => {
    expect(profileSchema.parse(minimal)).toEqual({ ...minimal, hosts: [], command: "TERMINAL", policy: null, acl: {}, x2goOptions: {}, maxSessionsPerUser: 3, service: null, launcher: null, queue: null });
  });

  it("fills ACL rule defaults: empty lists and deny-allow", () => {
    expect(profileSchema.parse({ ...minimal, acl: { users: { allow: ["alice"] } } }).acl).toEqual({
      users: { allow: ["alice"], deny: [], order: "deny-allow" },
    });
  });

  it("accepts a full profile", () => {
    const full = {
      ...minimal,
      mode: "redirect",
      hosts: [{ name: "ts01.example.org", address: "203.0.113.5", port: 2222 }, { name: "ts02" }],
      command: "XFCE",
      policy: { steps: [{ use: "least-loaded" }] },
      acl: { clients: { allow: ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"], deny: ["ALL"], order: "allow-deny" }, groups: { allow: ["staff"] } },
      x2goOptions: { sshport: 22, fullscreen: true, geometry: "1280x1024", applications: ["TERMINAL"] },
    };
    expect(profileSchema.safeParse(full).success).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ["an id with a space", { id: "p 1" }],
    ["an id longer than 64 chars", { id: "x".repeat(65) }],
    ["an unknown mode", { mode: "tunnel" }],
    ["an unknown pool name shape", { pool: "Bad Pool" }],
    ["an unknown top-level key", { color: "red" }],
    ["a host with an IPv6 address", { hosts: [{ name: "ts01", address: "2001:db8::1" }] }],
    ["a host with port 0", { hosts: [{ name: "ts01", port: 0 }] }],
    ["a host with an unknown key", { hosts: [{ name: "ts01", weight: 2 }] }],
    ["duplicate host names", { hosts: [{ name: "ts01" }, { name: "ts01", port: 2 }] }],
    ["a name with a newline", { name: "a\n[evil]" }],
    ["an empty command", { command: "" }],
    ["a client entry that is no address", { acl: { clients: { allow: ["example.org"] } } }],
    ["an unknown ACL order", { acl: { users: { allow: ["a"], order: "first" } } }],
    ["an unknown ACL kind", { acl: { hosts: { allow: ["a"] } } }],
    ["an acl-* option", { x2goOptions: { "acl-users-allow": "alice" } }],
    ["a broker-* option", { x2goOptions: { "broker-session-autologin": true } }],
    ["host as an option", { x2goOptions: { host: "ts01" } }],
    ["an option value with a control character", { x2goOptions: { geometry: "1\r\n[x]" } }],
    ["a name with a nested <br>", { name: "Desk<b<br>r>host=evil.example<b<br>r>sshport=2222" }],
    ["a command with <BR>", { command: "xterm<BR>sshport=1" }],
    ["an option value with <Br>", { x2goOptions: { sessiontitle: "t<Br>host=evil" } }],
    ["a list option item with <br>", { x2goOptions: { applications: ["TERMINAL", "a<br>b"] } }],
    ["a name with NEL (U+0085)", { name: "a\u0085b" }],
    ["an option value with a line separator (U+2028)", { x2goOptions: { geometry: "1\u2028x" } }],
    ["an object option value", { x2goOptions: { export: { "/home": true } } }],
    ["a bad sshport option", { x2goOptions: { sshport: 70_000 } }],
    ["a policy with an unknown step", { policy: { steps: [{ use: "teleport" }] } }],
  ])("refuses %s", (_name, change) => {
    expect(profileSchema.safeParse({ ...minimal, ...change }).success).toBe(false);
  });

  it("accepts angle brackets that are no <br>", () => {
    expect(profileSchema.safeParse({ ...minimal, name: "a <b> r", command: "sh -c 'x < y > z'" }).success).toBe(true);
  });
});

describe("storedProfileSchema", () => {
  it("reads back text older versions accepted (<br>, C1, U+2028), which the X2Go answers encode", () => {
    const stored = { ...minimal, name: "Desk<b<br>r>x", command: "a\u0085b", x2goOptions: { geometry: "1\u2028x", applications: ["a<BR>b"] } };
    expect(storedProfileSchema.safeParse(stored).success).toBe(true);
    expect(profileSchema.safeParse(stored).success).toBe(false);
  });

  it("still refuses C0 control characters, as older versions did", () => {
    expect(storedProfileSchema.safeParse({ ...minimal, name: "a\nb" }).success).toBe(false);
  });
});
