import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatConfIssue, MAX_IMPORT_PROFILES, parseSessionProfiles } from "../../../src/profiles/x2go-conf.ts";

const debianLike = readFileSync(new URL("../../fixtures/profiles/x2gobroker-sessionprofiles.conf", import.meta.url), "utf8");

function parseOk(text: string, mode?: "relay" | "redirect") {
  const result = parseSessionProfiles(text, { pool: "default", ...(mode ? { mode } : {}) });
  if (result.errors.length > 0) throw new Error(result.errors.map(formatConfIssue).join("\n"));
  return result;
}

function byId(text: string) {
  return new Map(parseOk(text).profiles.map((profile) => [profile.id, profile]));
}

describe("parseSessionProfiles: the Debian-like example file", () => {
  const result = parseOk(debianLike);
  const profiles = new Map(result.profiles.map((profile) => [profile.id, profile]));

  it("reads every section but [DEFAULT] as a profile, in file order", () => {
    expect(result.profiles.map((profile) => profile.id)).toEqual([
      "localhost-kde",
      "localhost-mate",
      "localhost-shadow",
      "pool-C-xfce",
      "pool-C-full",
      "pool-C-apps",
    ]);
  });

  it("maps name, command, pool and the import mode (redirect by default)", () => {
    expect(profiles.get("localhost-kde")).toMatchObject({ name: "KDE - localhost", command: "KDE", pool: "default", mode: "redirect", policy: null });
    expect(profiles.get("pool-C-full")?.name).toBe("XFCE fullscreen - pool-C");
  });

  it("inherits [DEFAULT] keys, typed as X2Go types them", () => {
    expect(profiles.get("localhost-kde")?.x2goOptions).toMatchObject({
      fullscreen: false,
      width: 800,
      quality: 9,
      sshport: 22,
      setdpi: false,
      export: "",
      type: "auto",
      user: "BROKER_USER",
      applications: ["TERMINAL", "WWWBROWSER", "MAILCLIENT", "OFFICE"],
    });
  });

  it("lets a section override [DEFAULT], drops not-set keys, and accepts ':' and spaces around '='", () => {
    const options = profiles.get("pool-C-full")?.x2goOptions ?? {};
    expect(options["fullscreen"]).toBe(true);
    expect(options).not.toHaveProperty("width");
    expect(options).not.toHaveProperty("height");
  });

  it("reads host entries with and without address and port", () => {
    expect(profiles.get("pool-C-xfce")?.hosts).toEqual([
      { name: "s-1.pool-c.local", address: "10.0.3.11" },
      { name: "s-2.pool-c.local", address: "10.0.3.12", port: 2222 },
      { name: "s-3.pool-c.local", address: "s-3.example.org" },
    ]);
    expect(profiles.get("localhost-kde")?.hosts).toEqual([{ name: "localhost" }]);
  });

  it("reads ACLs, with acl-any-order, per-kind orders and continuation lines", () => {
    expect(profiles.get("localhost-mate")?.acl).toEqual({ groups: { allow: ["staff"], deny: ["ALL"], order: "deny-allow" } });
    expect(profiles.get("localhost-shadow")?.acl).toEqual({ users: { allow: ["admin", "alice"], deny: ["ALL"], order: "allow-deny" } });
    expect(profiles.get("pool-C-xfce")?.acl).toEqual({ clients: { allow: ["10.0.0.0/8", "2001:db8::/32"], deny: ["ALL"], order: "allow-deny" } });
  });

  it("keeps no acl-* or broker-* key among the client options", () => {
    for (const profile of result.profiles) {
      expect(Object.keys(profile.x2goOptions).filter((key) => /^(acl|broker)-/.test(key))).toEqual([]);
    }
  });

  it("warns once per dropped broker-* line, with its line number", () => {
    const brokerWarnings = result.warnings.filter((warning) => warning.message.startsWith("broker-"));
    expect(brokerWarnings.map((warning) => [warning.line, warning.section])).toEqual([
      [42, "DEFAULT"],
      [84, "pool-C-xfce"],
      [85, "pool-C-xfce"],
      [86, "pool-C-xfce"],
    ]);
  });

  it("defaults a missing host to the whole pool and an empty command to TERMINAL, with a warning", () => {
    expect(profiles.get("pool-C-apps")).toMatchObject({ hosts: [], command: "TERMINAL" });
    expect(profiles.get("pool-C-apps")?.x2goOptions).toMatchObject({ published: true, rootless: true });
    expect(result.warnings).toContainEqual(expect.objectContaining({ section: "pool-C-apps", message: expect.stringContaining("every server") }));
  });

  it("honours the caller's mode", () => {
    expect(parseOk(debianLike, "relay").profiles.every((profile) => profile.mode === "relay")).toBe(true);
  });
});

describe("parseSessionProfiles: dialect details", () => {
  it("keeps keys case-sensitive and ignores ; and # comment lines", () => {
    const profiles = byId("; comment\n[p]\n# another\nhost=h1\nMyKey=1\nmykey=2\n");
    expect(profiles.get("p")?.x2goOptions).toEqual({ MyKey: "1", mykey: "2" });
  });

  it("keeps a ';' inside a value (no inline comments)", () => {
    expect(byId("[p]\nhost=h1\nname=A ; B\n").get("p")?.name).toBe("A ; B");
  });

  it("reads CRLF files and a UTF-8 BOM", () => {
    expect(byId("\uFEFF[p]\r\nhost=h1\r\nname=P\r\n").get("p")).toMatchObject({ name: "P", hosts: [{ name: "h1" }] });
  });

  it("accepts Python list literals for list keys", () => {
    expect(byId("[p]\nhost=['h1', 'h2']\napplications=['TERMINAL','OFFICE']\n").get("p")).toMatchObject({
      hosts: [{ name: "h1" }, { name: "h2" }],
      x2goOptions: { applications: ["TERMINAL", "OFFICE"] },
    });
  });

  it("reads boolean words as Python's getboolean does", () => {
    const options = byId("[p]\nhost=h\nsound=Yes\nprint=off\nfullscreen=1\nkdrive=FALSE\n").get("p")?.x2goOptions;
    expect(options).toMatchObject({ sound: true, print: false, fullscreen: true, kdrive: false });
  });

  it("drops an IPv6 or invalid host address with a warning and keeps the name", () => {
    const result = parseOk("[p]\nhost=ts01 (2001:db8::1),ts02 (bad_address!:2200)\n");
    expect(result.profiles[0]?.hosts).toEqual([{ name: "ts01" }, { name: "ts02", port: 2200 }]);
    expect(result.warnings.filter((warning) => warning.line === 2)).toHaveLength(2);
  });

  it("warns about unknown acl-* keys and reads a bad order as deny-allow", () => {
    const result = parseOk("[p]\nhost=h\nacl-users-allow=alice\nacl-users-order=first-wins\nacl-color=red\n");
    expect(result.profiles[0]?.acl).toEqual({ users: { allow: ["alice"], deny: [], order: "deny-allow" } });
    expect(result.warnings.map((warning) => warning.line)).toEqual(expect.arrayContaining([4, 5]));
  });
});

describe("parseSessionProfiles: errors", () => {
  it.each<[string, string, number, string]>([
    ["a key before any section", "host=h\n[p]\nhost=h\n", 1, "before any [section]"],
    ["a line that is neither header nor key", "[p]\nhost=h\njust some words\n", 3, "not a [section] header"],
    ["a duplicate section", "[p]\nhost=h\n[p]\nhost=h\n", 3, "duplicate section"],
    ["a duplicate key", "[p]\nhost=h\nhost=g\n", 3, "duplicate key host"],
    ["a bad boolean", "[p]\nhost=h\nfullscreen=maybe\n", 3, "fullscreen must be a boolean"],
    ["a bad integer", "[p]\nhost=h\nwidth=wide\n", 3, "width must be an integer"],
    ["a port out of range", "[p]\nhost=h (10.0.0.1:70000)\n", 2, "out of range"],
    ["a bad host name", "[p]\nname=P\nhost=under_score\n", 3, "hosts.0.name"],
    ["a bad profile id", "[bad id]\nhost=h\n", 1, "id:"],
    ["a bad client ACL entry", "[p]\nhost=h\nacl-clients-allow=10.0.0.0/99\n", 3, "acl.clients.allow.0"],
    ["a bad sshport", "[p]\nhost=h\nsshport=0\n", 3, "sshport"],
    ["an empty file", "# nothing\n", 1, "no profile section"],
  ])("%s is an error with its line number", (_name, text, line, message) => {
    const result = parseSessionProfiles(text, { pool: "default" });
    expect(result.profiles).toEqual([]);
    expect(result.errors).toContainEqual(expect.objectContaining({ line, message: expect.stringContaining(message) }));
  });

  it("reports a broken [DEFAULT] line once, under DEFAULT, not once per section", () => {
    const result = parseSessionProfiles("[DEFAULT]\nwidth=wide\n[a]\nhost=h\n[b]\nhost=h\n", { pool: "default" });
    expect(result.errors).toEqual([{ line: 2, section: "DEFAULT", message: "width must be an integer" }]);
  });

  it("returns no profile at all when any section is broken", () => {
    const result = parseSessionProfiles("[good]\nhost=h\n[bad]\nhost=h\nwidth=x\n", { pool: "default" });
    expect(result.profiles).toEqual([]);
    expect(result.errors).toHaveLength(1);
  });

  it(`refuses more than ${MAX_IMPORT_PROFILES} profiles`, () => {
    const text = Array.from({ length: MAX_IMPORT_PROFILES + 1 }, (_, index) => `[p${index}]\nhost=h\n`).join("");
    expect(parseSessionProfiles(text, { pool: "default" }).errors).toContainEqual(expect.objectContaining({ message: expect.stringContaining("more than") }));
  });

  it("formats an issue as line N [section]: message", () => {
    expect(formatConfIssue({ line: 3, section: "p", message: "boom" })).toBe("line 3 [p]: boom");
  });
});
