/**
 * The X2Go broker protocol's plain-text frontend (`/plain/`, x2goclient): the request/response
 * pairs of x2gobroker's transcripts replayed against our broker, the pseudo-host answers, the
 * paths, and the error pages X2Go clients can read.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { admin, beat, call, enrolNode, sampleBody } from "./helpers.ts";

const PASSWORD = "sweet-sweet-1";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UNAUTHORIZED_PAGE = "<html><title>401: Unauthorized</title><body>401: Unauthorized</body></html>";
const NOT_FOUND_PAGE = "<html><title>404: Not Found</title><body>404: Not Found</body></html>";
const SESSION_STARTED_AT = Date.UTC(2024, 0, 1, 10, 0, 0);

function post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** A plain request with x2goclient's fields (`authid` always sent, empty at first). */
function plain(user: string, fields: Record<string, string>, path = "/plain/"): Promise<Response> {
  return post(path, { user, password: PASSWORD, authid: "", ...fields });
}

/** The body after the `AUTHID:` and `Access granted` lines, which are checked on the way. */
async function afterAuth(response: Response): Promise<string> {
  expect(response.status).toBe(200);
  const body = await response.text();
  const match = /^AUTHID:([^\n]*)\nAccess granted\n/.exec(body);
  expect(match?.[1]).toMatch(UUID);
  return body.slice(match?.[0].length ?? 0);
}

async function createUser(login: string, groups: string[] = []): Promise<void> {
  const response = await admin("/v1/admin/users", "POST", { login, password: PASSWORD, groups });
  if (response.status !== 201) throw new Error(`user ${login}: ${response.status} ${await response.text()}`);
}

/** The tests select many times as one user, so the per-user limit is raised well above what they hold. */
async function createProfile(id: string, body: Record<string, unknown>): Promise<void> {
  const response = await admin("/v1/admin/profiles", "POST", { id, name: id, pool: "x2g", mode: "redirect", maxSessionsPerUser: 100, ...body });
  if (response.status !== 201) throw new Error(`profile ${id}: ${response.status} ${await response.text()}`);
}

beforeAll(async () => {
  await admin("/v1/admin/pools", "POST", { name: "x2g" });
  await admin("/v1/admin/pools", "POST", { name: "empty" });
  const ts01 = await enrolNode("ts01", "x2g", { clientAddress: "ts01.example.org:2201" });
  const ts02 = await enrolNode("ts02", "x2g");
  const carolsSession = { id: "carol-50-1700000000_stDXFCE_dp24", user: "carol", state: "suspended" as const, startedAt: SESSION_STARTED_AT, display: ":50" };
  await beat(ts01, sampleBody({ sessions: [carolsSession], users: ["carol"] }));
  await beat(ts02, sampleBody({ sessions: [], users: [] }));
  await createUser("test");
  await createUser("carol");
  await createUser("jacques", ["staff"]);
  await createUser("mallory");
  await createProfile("pool-lb", {
    name: "Pool LB (2 hosts)",
    hosts: [{ name: "ts01" }, { name: "ts02", address: "127.0.0.2", port: 18022 }],
    command: "xfce",
    x2goOptions: { fullscreen: false, rootless: true, speed: 2, applications: ["TERMINAL", "WWWBROWSER"], usebrokerpass: true },
  });
  await createProfile("mapped", { hosts: [{ name: "ts02", address: "127.0.0.2", port: 18022 }] });
  await createProfile("node-address", { hosts: [{ name: "ts01" }] });
  await createProfile("bare", { mode: "relay", hosts: [{ name: "ts02" }], x2goOptions: { sshport: 2222 } });
  await createProfile("nowhere", { pool: "empty", x2goOptions: { sshport: 18033 } });
  await createProfile("staff-only", { hosts: [{ name: "ts02" }], acl: { groups: { allow: ["staff"], deny: ["ALL"], order: "allow-deny" } } });
});

describe("plain listsessions", () => {
  it("answers AUTHID, Access granted and one INI section per visible profile, sorted by id", async () => {
    const response = await plain("test", { task: "listsessions" });
    expect(response.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    expect(response.headers.get("Expires")).toBe("+1h");
    expect(await afterAuth(response)).toBe(
      [
        "START_USER_SESSIONS",
        "",
        "[bare]",
        "name=bare",
        "host=ts02",
        "command=TERMINAL",
        "user=test",
        "sshport=2222",
        "",
        "[mapped]",
        "name=mapped",
        "host=ts02",
        "command=TERMINAL",
        "user=test",
        "",
        "[node-address]",
        "name=node-address",
        "host=ts01",
        "command=TERMINAL",
        "user=test",
        "",
        "[nowhere]",
        "name=nowhere",
        "host=no-X2Go-Server-available",
        "command=TERMINAL",
        "user=test",
        "sshport=18033",
        "",
        "[pool-lb]",
        "name=Pool LB (2 hosts)",
        "host=ts01,ts02",
        "command=XFCE",
        "user=test",
        "fullscreen=0",
        "rootless=0",
        "speed=2",
        "applications=TERMINAL,WWWBROWSER",
        "usebrokerpass=1",
        "",
        "END_USER_SESSIONS",
        "",
      ].join("\n"),
    );
  });

  it("shows the profiles an ACL allows only to the users it allows", async () => {
    expect(await afterAuth(await plain("jacques", { task: "listsessions" }))).toContain("\n[staff-only]\n");
    expect(await afterAuth(await plain("test", { task: "listsessions" }))).not.toContain("staff-only");
  });

  it("narrows host to the host of a resumable session and adds status=S", async () => {
    const body = await afterAuth(await plain("carol", { task: "listsessions" }));
    expect(body).toContain("[pool-lb]\nname=Pool LB (2 hosts)\nhost=ts01\ncommand=XFCE\nuser=carol\n");
    expect(body).toMatch(/\[pool-lb\]\n(?:[^\n]+\n)*status=S\n\n/);
    expect(body).toMatch(/\[node-address\]\n(?:[^\n]+\n)*status=S\n\n/);
    expect(body).toMatch(/\[mapped\]\n(?:[^\n[]+\n)*\n/);
    expect(/\[mapped\]\n((?:[^\n]+\n)*)\n/.exec(body)?.[1]).not.toContain("status=");
  });
});

describe("plain selectsession", () => {
  it("answers SERVER:<address>:<port> from the profile's host mapping", async () => {
    expect(await afterAuth(await plain("test", { task: "selectsession", sid: "mapped", login: "test" }))).toBe("SERVER:127.0.0.2:18022\n");
  });

  it("answers the node's client address when the profile names no address", async () => {
    expect(await afterAuth(await plain("test", { task: "selectsession", sid: "node-address" }))).toBe("SERVER:ts01.example.org:2201\n");
  });

  it("answers the node's hostname and the profile's sshport without any address, whatever the profile's mode", async () => {
    expect(await afterAuth(await plain("test", { task: "selectsession", sid: "bare" }))).toBe("SERVER:ts02:2222\n");
  });

  it("sends the user back to a suspended session with SESSION_INFO in x2golistsessions format", async () => {
    const body = await afterAuth(await plain("carol", { task: "selectsession", sid: "node-address" }));
    const match = /^SERVER:ts01\.example\.org:2201\nSESSION_INFO:([^\n]*)\n$/.exec(body);
    const fields = match?.[1]?.split("|");
    expect(fields).toHaveLength(16);
    expect(fields?.slice(0, 12)).toEqual([
      "0",
      "carol-50-1700000000_stDXFCE_dp24",
      "50",
      "ts01.example.org",
      "S",
      "2024-01-01T10:00:00",
      "0".repeat(32),
      "0.0.0.0",
      "-1",
      "-1",
      "2024-01-01T10:00:00",
      "carol",
    ]);
    expect(Number(fields?.[12])).toBeGreaterThanOrEqual(Math.floor((Date.now() - SESSION_STARTED_AT) / 1000) - 5);
    expect(fields?.slice(13)).toEqual(["-1", "-1", "-1"]);
  });

  it("answers the pseudo-host no-server-available:22 for an unknown profile", async () => {
    expect(await afterAuth(await plain("test", { task: "selectsession", sid: "nope" }))).toBe("SERVER:no-server-available:22\n");
  });

  it("enforces ACLs: a hidden profile answers exactly like an unknown one", async () => {
    expect(await afterAuth(await plain("test", { task: "selectsession", sid: "staff-only" }))).toBe("SERVER:no-server-available:22\n");
    expect(await afterAuth(await plain("jacques", { task: "selectsession", sid: "staff-only" }))).toBe("SERVER:ts02:22\n");
  });

  it("answers the pseudo-host no-X2Go-Server-available with the profile's port when no server is up", async () => {
    expect(await afterAuth(await plain("test", { task: "selectsession", sid: "nowhere" }))).toBe("SERVER:no-X2Go-Server-available:18033\n");
  });

  it("answers only the auth part without a sid", async () => {
    expect(await afterAuth(await plain("test", { task: "selectsession" }))).toBe("");
  });
});

describe("plain requests", () => {
  it("answers testcon without credentials: OK and Access granted, no cookie", async () => {
    const response = await post("/plain/", { task: "testcon" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    expect(await response.text()).toBe("OK\nAccess granted\n");
  });

  it("answers an authenticated request without a known task with the auth part only", async () => {
    expect(await afterAuth(await plain("test", {}))).toBe("");
    expect(await afterAuth(await plain("test", { task: "listprofiles" }))).toBe("");
  });

  it("merges query-string parameters, the body's value winning", async () => {
    const response = await post("/plain/?task=selectsession&sid=nope&user=test", { password: PASSWORD, sid: "mapped" });
    expect(await afterAuth(response)).toBe("SERVER:127.0.0.2:18022\n");
  });

  it("reads the body as a form whatever its Content-Type", async () => {
    const body = new URLSearchParams({ task: "selectsession", sid: "mapped", user: "test", password: PASSWORD }).toString();
    expect(await afterAuth(await call("/plain/", { method: "POST", headers: { "Content-Type": "text/plain" }, body }))).toBe("SERVER:127.0.0.2:18022\n");
    expect(await afterAuth(await call("/plain/", { method: "POST", body }))).toBe("SERVER:127.0.0.2:18022\n");
  });

  it("accepts x2gobroker's backend segments and ignores what follows them", async () => {
    for (const path of ["/plain/inifile/", "/plain/inifile", "/plain/zipfile/anything/else"]) {
      expect(await afterAuth(await plain("test", { task: "selectsession", sid: "mapped" }, path))).toBe("SERVER:127.0.0.2:18022\n");
    }
  });
});

describe("plain errors", () => {
  it("answers a wrong password with tornado's 401 page", async () => {
    const response = await post("/plain/", { task: "listsessions", user: "test", password: "wrong-password", authid: "" });
    expect(response.status).toBe(401);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
    expect(await response.text()).toBe(UNAUTHORIZED_PAGE);
  });

  it("answers an unknown user and a request without credentials with the same 401 page", async () => {
    const attempts: Array<Record<string, string>> = [{ task: "listsessions", user: "nobody", password: PASSWORD }, { task: "listsessions" }, { task: "selectsession", sid: "mapped" }];
    for (const fields of attempts) {
      const response = await post("/plain/", fields);
      expect(response.status).toBe(401);
      expect(await response.text()).toBe(UNAUTHORIZED_PAGE);
    }
  });

  it("answers 404 pages for a path without the trailing slash and for an unknown backend", async () => {
    for (const path of ["/plain", "/plain/ldap/", "/plain/ldap"]) {
      const response = await plain("test", { task: "listsessions" }, path);
      expect(response.status).toBe(404);
      expect(response.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
      expect(await response.text()).toBe(NOT_FOUND_PAGE);
    }
  });

  it("refuses GET with 405, so that passwords never travel in URLs", async () => {
    const response = await call(`/plain/?${new URLSearchParams({ task: "listsessions", user: "test", password: PASSWORD })}`);
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
    expect(await response.text()).toBe("<html><title>405: Method Not Allowed</title><body>405: Method Not Allowed</body></html>");
  });

  it("answers 429 as plain text with Retry-After once the login is throttled", async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await post("/plain/", { task: "listsessions", user: "mallory", password: "wrong-password" })).status).toBe(401);
    }
    const response = await plain("mallory", { task: "listsessions" });
    expect(response.status).toBe(429);
    expect(response.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("answers an oversized body with 413, not the JSON envelope", async () => {
    const response = await post("/plain/", { task: "listsessions", user: "test", password: PASSWORD, pubkey: "x".repeat(70_000) });
    expect(response.status).toBe(413);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
  });
});
