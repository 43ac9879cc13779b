import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Identity } from "../../src/auth/identity.ts";
import type { Profile } from "../../src/profiles/profile-schema.ts";
import { profilesFor, requireProfileAccess } from "../../src/profiles/profiles.ts";
import { ADMIN, ADMIN_TOKEN, admin, call, expectError } from "./helpers.ts";

const CONF = `# a small x2gobroker-sessionprofiles.conf
[DEFAULT]
command=XFCE
sshport=22
broker-agent-query-mode=NONE

[imp-a]
name=Imported A
host=ts01 (10.0.0.11),ts02 (10.0.0.12:2222)
fullscreen=true

[imp-b]
name=Imported B
host=ts03
acl-users-allow=alice
acl-users-deny=ALL
acl-users-order=allow-deny
`;

function importConf(query: string, text: string, contentType = "text/plain; charset=utf-8"): Promise<Response> {
  return call(`/v1/admin/profiles/import?${query}`, { method: "POST", headers: { ...ADMIN, "Content-Type": contentType }, body: text });
}

function profileBody(id: string, extra: Record<string, unknown> = {}) {
  return { id, name: `Profile ${id}`, pool: "default", mode: "relay", ...extra };
}

async function ids(query = ""): Promise<string[]> {
  const body = (await (await admin(`/v1/admin/profiles${query}`)).json()) as { profiles: Profile[] };
  return body.profiles.map((profile) => profile.id);
}

function identity(login: string, groups: string[] = [], isAdmin = false): Identity {
  return { login, groups, isAdmin, isManager: isAdmin, source: "password" };
}

beforeAll(async () => {
  expect((await admin("/v1/admin/pools", "POST", { name: "lab" })).status).toBe(201);
});

describe("profile admin API: happy paths", () => {
  it("creates, reads, lists, replaces and deletes a profile", async () => {
    const created = await admin("/v1/admin/profiles", "POST", profileBody("crud", { hosts: [{ name: "ts01", address: "ts01.example.org", port: 2222 }] }));
    expect(created.status).toBe(201);
    const profile = (await created.json()) as Profile;
    expect(profile).toMatchObject({ id: "crud", command: "TERMINAL", policy: null, acl: {}, x2goOptions: {}, hosts: [{ name: "ts01", address: "ts01.example.org", port: 2222 }] });
    expect(await (await admin("/v1/admin/profiles/crud")).json()).toEqual(profile);
    expect(await ids()).toContain("crud");

    const replaced = await admin("/v1/admin/profiles/crud", "PUT", { name: "Renamed", pool: "lab", mode: "redirect", command: "KDE" });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ id: "crud", name: "Renamed", pool: "lab", mode: "redirect", command: "KDE", hosts: [], createdAt: profile.createdAt });

    expect((await admin("/v1/admin/profiles/crud", "DELETE")).status).toBe(204);
    await expectError(await admin("/v1/admin/profiles/crud"), 404, "NOT_FOUND");
  });

  it("stores JSON columns in the documented shapes", async () => {
    const body = profileBody("shapes", {
      acl: { users: { allow: ["alice"] } },
      x2goOptions: { sshport: 2200, sound: false, applications: ["TERMINAL"] },
      policy: { steps: [{ use: "least-loaded" }] },
    });
    expect((await admin("/v1/admin/profiles", "POST", body)).status).toBe(201);
    const row = await env.DB.prepare("SELECT hosts, policy, acl, x2go_options FROM profiles WHERE id = ?").bind("shapes").first<Record<string, string>>();
    expect(row && JSON.parse(row["acl"] ?? "")).toEqual({ users: { allow: ["alice"], deny: [], order: "deny-allow" } });
    expect(row && JSON.parse(row["x2go_options"] ?? "")).toEqual({ sshport: 2200, sound: false, applications: ["TERMINAL"] });
    expect(row && JSON.parse(row["policy"] ?? "")).toEqual({ steps: [{ use: "least-loaded" }] });
    expect(row?.["hosts"]).toBe("[]");
  });

  it("lists the profiles of one pool", async () => {
    await admin("/v1/admin/profiles", "POST", profileBody("in-lab", { pool: "lab" }));
    expect(await ids("?pool=lab")).toContain("in-lab");
    expect(await ids("?pool=default")).not.toContain("in-lab");
  });

  it("imports a profiles file with redirect mode, hosts, typed options and ACLs, and reports warnings", async () => {
    const response = await importConf("pool=lab", CONF);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { imported: string[]; warnings: Array<{ line: number; section: string; message: string }> };
    expect(body.imported).toEqual(["imp-a", "imp-b"]);
    expect(body.warnings).toContainEqual(expect.objectContaining({ line: 5, section: "DEFAULT", message: expect.stringContaining("broker-agent-query-mode") }));
    const a = (await (await admin("/v1/admin/profiles/imp-a")).json()) as Profile;
    expect(a).toMatchObject({
      pool: "lab",
      mode: "redirect",
      command: "XFCE",
      hosts: [{ name: "ts01", address: "10.0.0.11" }, { name: "ts02", address: "10.0.0.12", port: 2222 }],
      x2goOptions: { sshport: 22, fullscreen: true },
    });
    const b = (await (await admin("/v1/admin/profiles/imp-b")).json()) as Profile;
    expect(b.acl).toEqual({ users: { allow: ["alice"], deny: ["ALL"], order: "allow-deny" } });
  });

  it("imports with replace=true: the pool ends up with exactly the file's profiles, creation times kept", async () => {
    await admin("/v1/admin/pools", "POST", { name: "swap" });
    expect((await importConf("pool=swap&mode=relay", "[sw-1]\nhost=h1\n[sw-2]\nhost=h2\n")).status).toBe(200);
    const before = (await (await admin("/v1/admin/profiles/sw-1")).json()) as Profile;
    const response = await importConf("pool=swap&replace=true", "[sw-1]\nname=Again\nhost=h9\n[sw-3]\nhost=h3\n");
    expect(response.status).toBe(200);
    expect(await ids("?pool=swap")).toEqual(["sw-1", "sw-3"]);
    expect(await (await admin("/v1/admin/profiles/sw-1")).json()).toMatchObject({ name: "Again", mode: "redirect", hosts: [{ name: "h9" }], createdAt: before.createdAt });
  });
});

describe("profile admin API: errors", () => {
  it.each<[string, unknown]>([
    ["a bad id", profileBody("bad id")],
    ["an unknown key", { ...profileBody("x1"), color: "red" }],
    ["an IPv6 host address", profileBody("x2", { hosts: [{ name: "ts01", address: "2001:db8::1" }] })],
    ["a broker-* option", profileBody("x3", { x2goOptions: { "broker-session-autologin": true } })],
    ["a client ACL entry that is no address", profileBody("x4", { acl: { clients: { allow: ["example.org"] } } })],
    ["an unknown pool in the body", profileBody("x5", { pool: "nope" })],
    ["a policy script that does not parse", profileBody("x6", { policy: { steps: [{ script: "function (input) { return ; ; }}" }] } })],
  ])("POST with %s answers 400 and stores nothing", async (_name, body) => {
    await expectError(await admin("/v1/admin/profiles", "POST", body), 400, "BAD_REQUEST");
    expect(await ids()).not.toEqual(expect.arrayContaining(["x1", "x2", "x3", "x4", "x5", "x6"]));
  });

  it("refuses a duplicate id with 409", async () => {
    expect((await admin("/v1/admin/profiles", "POST", profileBody("dup"))).status).toBe(201);
    await expectError(await admin("/v1/admin/profiles", "POST", profileBody("dup", { name: "Other" })), 409, "CONFLICT");
  });

  it("answers 404 for an unknown profile or pool", async () => {
    await expectError(await admin("/v1/admin/profiles/ghost"), 404, "NOT_FOUND");
    await expectError(await admin("/v1/admin/profiles/ghost", "PUT", { name: "G", pool: "default", mode: "relay" }), 404, "NOT_FOUND");
    await expectError(await admin("/v1/admin/profiles/ghost", "DELETE"), 404, "NOT_FOUND");
    await expectError(await admin("/v1/admin/profiles?pool=nope"), 404, "NOT_FOUND");
    await expectError(await importConf("pool=nope", CONF), 404, "NOT_FOUND");
  });

  it("PUT refuses an id in the body (the id is the path's)", async () => {
    await admin("/v1/admin/profiles", "POST", profileBody("put-id"));
    await expectError(await admin("/v1/admin/profiles/put-id", "PUT", profileBody("other")), 400, "BAD_REQUEST");
  });

  it("an import with errors changes nothing and lists the problems with line numbers", async () => {
    const before = await ids();
    const response = await importConf("pool=default", "[ok-1]\nhost=h\n[broken]\nhost=h\nwidth=wide\nnot a line\n");
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.message).toContain("line 5 [broken]: width must be an integer");
    expect(body.error.message).toContain("line 6 [broken]: not a [section] header");
    expect(await ids()).toEqual(before);
  });

  it("an import touching existing ids without replace is 409 and changes nothing", async () => {
    await admin("/v1/admin/profiles", "POST", profileBody("taken"));
    const before = await ids();
    const response = await importConf("pool=default", "[fresh]\nhost=h\n[taken]\nhost=h\n");
    await expectError(response.clone(), 409, "CONFLICT");
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("profile taken exists already");
    expect(await ids()).toEqual(before);
  });

  it("an import never takes a profile of another pool, even with replace", async () => {
    await admin("/v1/admin/profiles", "POST", profileBody("owned", { pool: "lab" }));
    await expectError(await importConf("pool=default&replace=true", "[owned]\nhost=h\n"), 409, "CONFLICT");
    expect(await (await admin("/v1/admin/profiles/owned")).json()).toMatchObject({ pool: "lab" });
  });

  it.each<[string, string, string, number, string]>([
    ["a JSON body", "pool=default", "application/json", 415, "UNSUPPORTED_MEDIA_TYPE"],
    ["no pool", "", "text/plain", 400, "BAD_REQUEST"],
    ["a bad replace flag", "pool=default&replace=yes", "text/plain", 400, "BAD_REQUEST"],
    ["an unknown mode", "pool=default&mode=tunnel", "text/plain", 400, "BAD_REQUEST"],
  ])("an import with %s is refused", async (_name, query, contentType, status, code) => {
    await expectError(await importConf(query, CONF, contentType), status, code);
  });

  it("refuses an import body over 256 KiB with 413", async () => {
    const huge = `[big]\nhost=h\n${"# padding\n".repeat(27_000)}`;
    await expectError(await importConf("pool=default", huge), 413, "PAYLOAD_TOO_LARGE");
  });
});

describe("profile admin API: security", () => {
  const routes: Array<[string, string, string?]> = [
    ["GET", "/v1/admin/profiles"],
    ["POST", "/v1/admin/profiles", JSON.stringify(profileBody("sneaky"))],
    ["GET", "/v1/admin/profiles/dup"],
    ["PUT", "/v1/admin/profiles/dup", JSON.stringify({ name: "x", pool: "default", mode: "relay" })],
    ["DELETE", "/v1/admin/profiles/dup"],
    ["POST", "/v1/admin/profiles/import?pool=default", "[sneaky]\nhost=h\n"],
  ];

  it.each(routes)("%s %s refuses no token, a wrong token and a non-bearer scheme", async (method, path, body) => {
    for (const headers of [{}, { Authorization: "Bearer wrong-token-wrong-token" }, { Authorization: `Basic ${ADMIN_TOKEN}` }] as Array<Record<string, string>>) {
      const init = { method, headers: { "Content-Type": path.includes("import") ? "text/plain" : "application/json", ...headers }, ...(body ? { body } : {}) };
      await expectError(await call(path, init), 401, "UNAUTHORIZED");
    }
    expect(await ids()).not.toContain("sneaky");
  });
});

describe("profile visibility and access (ACLs)", () => {
  beforeAll(async () => {
    await admin("/v1/admin/pools", "POST", { name: "acl" });
    const conf = [
      "[acl-open]\nhost=h",
      "[acl-alice]\nhost=h\nacl-users-allow=alice\nacl-users-deny=ALL\nacl-users-order=allow-deny",
      "[acl-hidden]\nhost=h\nacl-users-allow=alice\nacl-users-deny=ALL\nacl-users-order=deny-allow",
      "[acl-staff]\nhost=h\nacl-groups-allow=staff\nacl-groups-deny=ALL\nacl-groups-order=allow-deny",
      "[acl-lan]\nhost=h\nacl-clients-allow=10.0.0.0/8\nacl-clients-deny=ALL\nacl-clients-order=allow-deny",
    ].join("\n");
    expect((await importConf("pool=acl", conf)).status).toBe(200);
  });

  const visible = async (who: Identity, clientIp?: string) =>
    (await profilesFor(env, who, clientIp)).map((profile) => profile.id).filter((id) => id.startsWith("acl-"));

  it("lists for each identity only what its ACLs allow", async () => {
    expect(await visible(identity("alice"), "192.0.2.1")).toEqual(["acl-alice", "acl-open"]);
    expect(await visible(identity("bob", ["staff"]), "10.1.1.1")).toEqual(["acl-lan", "acl-open", "acl-staff"]);
    expect(await visible(identity("carol"))).toEqual(["acl-open"]);
  });

  it("shows admins every profile", async () => {
    expect(await visible(identity("root", [], true))).toEqual(["acl-alice", "acl-hidden", "acl-lan", "acl-open", "acl-staff"]);
  });

  it("refuses selection of a hidden profile and of an unknown one alike, with 404", async () => {
    await expect(requireProfileAccess(env, "acl-alice", identity("alice"), undefined)).resolves.toMatchObject({ id: "acl-alice" });
    await expect(requireProfileAccess(env, "acl-hidden", identity("alice"), undefined)).rejects.toMatchObject({ code: "NOT_FOUND", status: 404 });
    await expect(requireProfileAccess(env, "acl-lan", identity("bob"), "192.0.2.1")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(requireProfileAccess(env, "acl-lan", identity("bob"), "10.9.9.9")).resolves.toMatchObject({ id: "acl-lan" });
    await expect(requireProfileAccess(env, "acl-nope", identity("alice"), undefined)).rejects.toMatchObject({ code: "NOT_FOUND", status: 404 });
    await expect(requireProfileAccess(env, "acl-hidden", identity("root", [], true), undefined)).resolves.toMatchObject({ id: "acl-hidden" });
  });
});
