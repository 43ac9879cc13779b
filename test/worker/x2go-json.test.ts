/**
 * The X2Go broker protocol's JSON frontend (`/json/`, python-x2go and pyhoca-cli): python-x2go's
 * exchanges replayed (auth without a task, listprofiles twice, selectsession with `profile-id`
 * and `pubkey`), the exact body layout, typed profile values restricted to python-x2go's keys,
 * the `task` echo, the port as a string and the pseudo-hosts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { admin, beat, call, enrolNode, sampleBody } from "./helpers.ts";

const PASSWORD = "sweet-sweet-1";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PUBKEY = "no-X11-forwarding,no-pty,no-user-rc ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC root@127.0.0.1";

type Payload = Record<string, unknown> & { task: string; "auth-status"?: string; "next-authid"?: string };

function post(fields: Record<string, string>, path = "/json/"): Promise<Response> {
  return call(path, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
}

/** Checks status, Content-Type and the auth keys, and returns the payload. */
async function payloadOf(response: Response): Promise<Payload> {
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toBe("text/json; charset=utf-8");
  const payload = JSON.parse(await response.text()) as Payload;
  expect(payload["auth-status"]).toBe("Access granted");
  expect(payload["next-authid"]).toMatch(UUID);
  return payload;
}

/** Signs in as python-x2go does (user and password, no task) and returns the first cookie. */
async function signIn(user: string): Promise<string> {
  return (await payloadOf(await post({ user, password: PASSWORD })))["next-authid"] as string;
}

async function createUser(login: string, groups: string[] = []): Promise<void> {
  const response = await admin("/v1/admin/users", "POST", { login, password: PASSWORD, groups });
  if (response.status !== 201) throw new Error(`user ${login}: ${response.status} ${await response.text()}`);
}

async function createProfile(id: string, body: Record<string, unknown>): Promise<void> {
  const response = await admin("/v1/admin/profiles", "POST", { id, name: id, pool: "jx", mode: "redirect", ...body });
  if (response.status !== 201) throw new Error(`profile ${id}: ${response.status} ${await response.text()}`);
}

beforeAll(async () => {
  await admin("/v1/admin/pools", "POST", { name: "jx" });
  await admin("/v1/admin/pools", "POST", { name: "jx-empty" });
  const j01 = await enrolNode("j01", "jx");
  const j02 = await enrolNode("j02", "jx", { clientAddress: "127.0.0.3:18023" });
  await beat(j01, sampleBody({ sessions: [{ id: "dora-51-1700000001_stDMATE_dp24", user: "dora", state: "suspended", startedAt: 1_700_000_001_000 }], users: ["dora"] }));
  await beat(j02, sampleBody({ sessions: [], users: [] }));
  await createUser("test");
  await createUser("dora");
  await createProfile("pool-lb", {
    name: "Pool LB (2 hosts)",
    hosts: [{ name: "j01", address: "127.0.0.2", port: 18022 }, { name: "j02" }],
    command: "mate",
    x2goOptions: {
      fullscreen: 0,
      sound: "true",
      speed: "3",
      width: 1024,
      sshport: 22,
      applications: "TERMINAL, WWWBROWSER",
      usebrokerpass: true,
      status: "S",
      export: "/home/test",
      "my-extension": "x",
      pack: 16,
      layout: ["de", "us"],
    },
  });
  await createProfile("j01-only", { name: "Café", hosts: [{ name: "j01", address: "127.0.0.2", port: 18022 }] });
  await createProfile("nowhere", { pool: "jx-empty" });
  await createProfile("hidden", { acl: { users: { allow: ["someone-else"], deny: [], order: "deny-allow" } } });
});

describe("json authentication and task echo", () => {
  it("answers python-x2go's first request (no task) with the auth keys and an empty task, as json.dumps(indent=4, sort_keys=True)", async () => {
    const response = await post({ user: "test", password: PASSWORD });
    const text = await response.clone().text();
    const { "next-authid": authid } = await payloadOf(response);
    expect(text).toBe(`{\n    "auth-status": "Access granted",\n    "next-authid": "${authid}",\n    "task": ""\n}`);
  });

  it("renames listsessions to listprofiles and echoes unknown tasks", async () => {
    expect((await payloadOf(await post({ user: "test", password: PASSWORD, task: "listsessions" }))).task).toBe("listprofiles");
    const other = await payloadOf(await post({ user: "test", password: PASSWORD, task: "setpass" }));
    expect(other.task).toBe("setpass");
    expect(Object.keys(other).sort()).toEqual(["auth-status", "next-authid", "task"]);
  });

  it("answers testcon with an empty text/json body, without credentials", async () => {
    const response = await post({ task: "testcon" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/json; charset=utf-8");
    expect(await response.text()).toBe("");
  });

  it("answers a wrong password with tornado's 401 page, not JSON", async () => {
    const response = await post({ user: "test", password: "wrong-password" });
    expect(response.status).toBe(401);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
    expect(await response.text()).toBe("<html><title>401: Unauthorized</title><body>401: Unauthorized</body></html>");
  });

  it("answers 404 pages for /json and unknown backends, and serves /json/inifile/", async () => {
    for (const path of ["/json", "/json/ldap/"]) {
      const response = await post({ user: "test", password: PASSWORD }, path);
      expect(response.status).toBe(404);
      expect(response.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
    }
    await payloadOf(await post({ user: "test", password: PASSWORD }, "/json/inifile/"));
  });
});

describe("json listprofiles", () => {
  it("lists profiles python-x2go can load: its keys only, typed like its defaults, host an array", async () => {
    const authid = await signIn("test");
    const payload = await payloadOf(await post({ task: "listprofiles", user: "test", authid }));
    expect(payload.task).toBe("listprofiles");
    const profiles = payload["profiles"] as Record<string, Record<string, unknown>>;
    expect(Object.keys(profiles)).toEqual(["j01-only", "nowhere", "pool-lb"]);
    expect(profiles["pool-lb"]).toEqual({
      name: "Pool LB (2 hosts)",
      host: ["j01", "j02"],
      command: "MATE",
      user: "test",
      rootless: false,
      fullscreen: false,
      sound: true,
      speed: 3,
      width: 1024,
      sshport: 22,
      applications: ["TERMINAL", "WWWBROWSER"],
      pack: "16",
      layout: "de,us",
    });
    expect(profiles["nowhere"]).toEqual({ name: "nowhere", host: ["no-X2Go-Server-available"], command: "TERMINAL", user: "test" });
  });

  it("escapes non-ASCII like Python's json.dumps and sorts every object's keys", async () => {
    const text = await (await post({ task: "listprofiles", user: "test", password: PASSWORD })).text();
    expect(text).toContain('"name": "Caf\\u00e9"');
    expect(text).toContain('        "j01-only": {\n            "command": "TERMINAL",\n            "host": [\n                "j01"\n            ],\n');
  });

  it("never sends status, even for a user with a session to resume, but narrows host to it", async () => {
    const payload = await payloadOf(await post({ task: "listprofiles", user: "dora", password: PASSWORD }));
    const profile = (payload["profiles"] as Record<string, Record<string, unknown>>)["pool-lb"];
    expect(profile?.["host"]).toEqual(["j01"]);
    expect(profile).not.toHaveProperty("status");
    expect(profile).not.toHaveProperty("usebrokerpass");
  });
});

describe("json selectsession", () => {
  it("answers python-x2go's selectsession (profile-id, pubkey, authid) with server and the port as a string", async () => {
    const authid = await signIn("test");
    const response = await post({ task: "selectsession", "profile-id": "j01-only", user: "test", pubkey: PUBKEY, authid });
    const text = await response.clone().text();
    const payload = await payloadOf(response);
    expect(payload.task).toBe("selectsession");
    expect(payload["selected_session"]).toEqual({ server: "127.0.0.2", port: "18022" });
    expect(text).toContain('    "selected_session": {\n        "port": "18022",\n        "server": "127.0.0.2"\n    },\n    "task": "selectsession"\n}');
  });

  it("prefers sid over profile-id", async () => {
    const payload = await payloadOf(await post({ task: "selectsession", sid: "j01-only", "profile-id": "nope", user: "test", password: PASSWORD }));
    expect(payload["selected_session"]).toEqual({ server: "127.0.0.2", port: "18022" });
  });

  it("answers an empty selected_session without a profile id", async () => {
    expect((await payloadOf(await post({ task: "selectsession", user: "test", password: PASSWORD })))["selected_session"]).toEqual({});
  });

  it("adds session_info when the user is sent back to a suspended session", async () => {
    const payload = await payloadOf(await post({ task: "selectsession", "profile-id": "pool-lb", user: "dora", password: PASSWORD }));
    const selected = payload["selected_session"] as Record<string, string>;
    expect(selected).toMatchObject({ server: "127.0.0.2", port: "18022" });
    expect(selected["session_info"]).toMatch(/^0\|dora-51-1700000001_stDMATE_dp24\|51\|127\.0\.0\.2\|S\|2023-11-14T22:13:21\|/);
  });

  it("answers the pseudo-hosts with string ports: unknown or ACL-refused profile, and no server up", async () => {
    for (const profileId of ["nope", "hidden"]) {
      const payload = await payloadOf(await post({ task: "selectsession", "profile-id": profileId, user: "test", password: PASSWORD }));
      expect(payload["selected_session"]).toEqual({ server: "no-server-available", port: "22" });
    }
    const payload = await payloadOf(await post({ task: "selectsession", "profile-id": "nowhere", user: "test", password: PASSWORD }));
    expect(payload["selected_session"]).toEqual({ server: "no-X2Go-Server-available", port: "22" });
  });
});
