/**
 * The pure parts of the X2Go broker protocol: request parameters as tornado reads them, the
 * `x2golistsessions` line, Python's json.dumps layout, profile values per frontend, and the
 * output encoding that keeps line breaks and `<br>` out of every value.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PoolSession } from "../../src/pool/select-request.ts";
import type { Profile } from "../../src/profiles/profile-schema.ts";
import { readX2goParams } from "../../src/x2go/form.ts";
import { pythonJsonDumps, renderJson } from "../../src/x2go/json.ts";
import { plainValue, renderPlain } from "../../src/x2go/plain.ts";
import { jsonProfileKeys, plainProfileKeys, profileKeys } from "../../src/x2go/profile-keys.ts";
import { type LineSession, sessionInfoLine } from "../../src/x2go/session-line.ts";
import { x2goHost, x2goText } from "../../src/x2go/x2go-text.ts";

function request(query: string, body: BodyInit, contentType?: string): Request {
  return new Request(`https://broker.test/plain/${query}`, { method: "POST", body, ...(contentType ? { headers: { "Content-Type": contentType } } : {}) });
}

const profile: Profile = {
  id: "p",
  name: "P",
  pool: "pool-a",
  mode: "redirect",
  hosts: [],
  command: "TERMINAL",
  policy: null,
  maxSessionsPerUser: 3,
  acl: {},
  x2goOptions: {},
  service: null,
  launcher: null,
  queue: null,
  createdAt: 0,
  updatedAt: 0,
};

const session: PoolSession = {
  id: "alice-50-1700000000_stDXFCE_dp24",
  user: "alice",
  state: "running",
  startedAt: Date.UTC(2024, 0, 1, 10, 0, 0),
  serverId: "srv_1",
  hostname: "ts01",
  pool: "pool-a",
  serverStatus: "up",
};

describe("readX2goParams", () => {
  it("merges the query string and the body, the last value winning, and strips all but the password", async () => {
    const params = await readX2goParams(request("?task=listsessions&user=a&sid=q", "user=+bob+&password=+pw+&sid=x&sid=y&profile-id=z"));
    expect(params).toEqual({ user: "bob", password: " pw ", authid: "", task: "listsessions", sid: "y", profileId: "z" });
  });

  it("reads multipart forms and replaces control characters like tornado", async () => {
    const form = new FormData();
    form.set("user", "bob");
    form.set("task", "select\u0001session");
    expect(await readX2goParams(request("", form))).toMatchObject({ user: "bob", task: "select session" });
  });

  it("treats an unparsable body as absent parameters", async () => {
    expect(await readX2goParams(request("?user=bob", "--broken", "multipart/form-data; boundary=x"))).toMatchObject({ user: "bob", task: "" });
  });
});

describe("sessionInfoLine", () => {
  it("fills the fields the broker does not know so that the line has x2golistsessions' 16 fields", () => {
    const nowMs = session.startedAt + 3_600_000;
    expect(sessionInfoLine(session, nowMs)).toBe(
      `0|alice-50-1700000000_stDXFCE_dp24|50|ts01|R|2024-01-01T10:00:00|${"0".repeat(32)}|0.0.0.0|-1|-1|2024-01-01T10:00:00|alice|3600|-1|-1|-1`,
    );
  });

  it("carries what the node read from x2golistsessions: pid, display, cookie, client address, ports and last time", () => {
    const reported = {
      ...session,
      display: "50",
      clientIp: "10.0.4.21",
      lastActiveAt: session.startedAt + 1_800_000,
      x2go: { pid: 28417, cookie: "8c1f2e4d5a6b7c8d9e0f1a2b3c4d5e6f", graphicsPort: 30001, soundPort: 30002, sshfsPort: 30003 },
    };
    expect(sessionInfoLine(reported, session.startedAt + 3_600_000)).toBe(
      "28417|alice-50-1700000000_stDXFCE_dp24|50|ts01|R|2024-01-01T10:00:00|8c1f2e4d5a6b7c8d9e0f1a2b3c4d5e6f|10.0.4.21|30001|30002|2024-01-01T10:30:00|alice|3600|30003|-1|-1",
    );
  });

  it("writes only integers in range and hex cookies, whatever reached it unchecked", () => {
    const hostile = { pid: 1e300, cookie: "ab|cd\n<br>SESSION_INFO:x", graphicsPort: 70_000, soundPort: 1.5, sshfsPort: -3 };
    const fields = sessionInfoLine({ ...session, clientIp: "1.2.3.4|x\nSERVER:evil", x2go: hostile }, 0).split("|");
    expect(fields).toHaveLength(16);
    expect([fields[0], fields[6], fields[7], fields[8], fields[9], fields[13]]).toEqual(["0", "0".repeat(32), "1.2.3.4_x_SERVER_evil", "-1", "-1", "-1"]);
    for (const pid of [Number.NaN, -1, 0, 4_194_305, 2 ** 53]) expect(sessionInfoLine({ ...session, x2go: { pid } }, 0).split("|")[0]).toBe("0");
  });

  it("prefers the reported display and falls back to -1", () => {
    expect(sessionInfoLine({ ...session, display: ":7.0" }, 0).split("|")[2]).toBe("7");
    expect(sessionInfoLine({ ...session, id: "plain-id" }, 0).split("|")[2]).toBe("-1");
  });

  it("keeps field separators and line breaks out of agent-reported fields", () => {
    const fields = sessionInfoLine({ ...session, id: "a|b\nc", user: "x|y" }, 0).split("|");
    expect(fields).toHaveLength(16);
    expect(fields[1]).toBe("a_b_c");
    expect(fields[11]).toBe("x_y");
  });
});

describe("pythonJsonDumps", () => {
  it("sorts keys at every level, indents by four and escapes non-ASCII", () => {
    expect(pythonJsonDumps({ b: { d: [1, "é"], c: {} }, a: "" })).toBe(
      '{\n    "a": "",\n    "b": {\n        "c": {},\n        "d": [\n            1,\n            "\\u00e9"\n        ]\n    }\n}',
    );
  });
});

describe("profile keys", () => {
  it("upper-cases desktop commands, forces rootless off and puts the login for BROKER_USER", () => {
    const keys = profileKeys({ ...profile, command: "kde", x2goOptions: { rootless: true, user: "BROKER_USER" } }, "alice", undefined, "ts09");
    expect(keys).toEqual({ name: "P", host: ["ts09"], command: "KDE", user: "alice", rootless: false });
  });

  it("keeps an explicit server user and a non-desktop command as written", () => {
    expect(profileKeys({ ...profile, command: "xterm -e top", x2goOptions: { user: "shared" } }, "alice", undefined, "ts09")).toMatchObject({ command: "xterm -e top", user: "shared" });
  });

  it("shows the resumable session's host and, in plain only, its status", () => {
    const listed = { hostname: "ts02", state: "running" as const };
    const hosts = [{ name: "ts01" }, { name: "ts02", address: "10.0.0.2" }];
    const keys = profileKeys({ ...profile, hosts }, "alice", listed, "ts09");
    expect(keys["host"]).toEqual(["ts02"]);
    expect(profileKeys({ ...profile, hosts }, "alice", undefined, "ts09")["host"]).toEqual(["ts01", "ts02"]);
    expect(plainProfileKeys(keys, listed)["status"]).toBe("R");
    expect(jsonProfileKeys(plainProfileKeys(keys, listed))).not.toHaveProperty("status");
  });

  it("types JSON values like python-x2go's defaults and drops what does not convert", () => {
    expect(
      jsonProfileKeys({ fullscreen: "maybe", sound: 1, dpi: 96.5, width: "800", sshport: true, icon: false, host: 5, clipboard: ["a", "b"], export: "x" }),
    ).toEqual({ sound: true, width: 800, clipboard: "a,b" });
  });

  it("writes plain booleans as 1/0, lists joined with commas, and no <br>", () => {
    expect([plainValue(true), plainValue(false), plainValue(["a", "b"]), plainValue(7), plainValue("a<br>[x]")]).toEqual(["1", "0", "a,b", "7", "a[x]"]);
  });
});

describe("x2go output encoding", () => {
  /** Strings built from the pieces of `<br>` and of line breaks, so that nested forms are frequent. */
  const pieces = fc.string({ unit: fc.constantFrom("<", "b", "r", ">", "B", "R", "<br>", "<BR>", "x", "|", ":", "\n", "\r", "\u0085", "\u2028", "\u2029"), maxLength: 40 });

  it("leaves no <br> in any case and no line-breaking character, whatever the nesting", () => {
    fc.assert(
      fc.property(pieces, (value) => {
        const text = x2goText(value);
        expect(text).not.toMatch(/<br>/i);
        expect(text).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
      }),
      { numRuns: 2000 },
    );
    expect(x2goText("Desk<b<br>r>host=evil.example<b<br>r>sshport=2222")).toBe("Deskhost=evil.examplesshport=2222");
    expect(x2goText("<<bR>bR<Br>>>")).toBe(">");
    expect(x2goText("a <b> r, x < y > z")).toBe("a <b> r, x < y > z");
  });

  it("keeps session fields on one line of 16 fields without x2goclient's markers", () => {
    const anything = fc.oneof(pieces, fc.double(), fc.integer(), fc.constant(undefined));
    const x2go = fc.record({ pid: anything, cookie: anything, graphicsPort: anything, soundPort: anything, sshfsPort: anything });
    fc.assert(
      fc.property(pieces, pieces, pieces, x2go, (id, user, clientIp, fields) => {
        // Values the wire schema would refuse: the line must hold without it.
        const unchecked = fields as unknown as LineSession["x2go"];
        const line = sessionInfoLine({ ...session, id: `${id}SESSION_INFO:${id}`, user, clientIp, x2go: unchecked }, 0);
        expect(line.split("|")).toHaveLength(16);
        expect(line).not.toMatch(/<br>|SESSION_INFO:|SERVER:|[\p{Cc}\u2028\u2029]/iu);
      }),
      { numRuns: 500 },
    );
  });

  it("answers only host characters as the server, in both frontends", () => {
    expect(x2goHost("evil<br>x:2222\nSESSION_INFO:y")).toBe("evil_br_x_2222_SESSION_INFO_y");
    const outcome = { task: "selectsession", nextAuthid: "a", selection: { server: "evil<b<br>r>host:2222", port: 22 } };
    expect(renderPlain(outcome)).toBe("AUTHID:a\nAccess granted\nSERVER:evil_b_br_r_host_2222:22\n");
    expect(JSON.parse(renderJson(outcome))).toMatchObject({ selected_session: { server: "evil_b_br_r_host_2222", port: "22" } });
  });

  it("encodes profile ids, keys and values of a listing in both frontends", () => {
    const keys = { name: "n<b<br>r>host=evil", command: "c\u2028x", applications: ["a<BR>b"], sshport: 22 };
    const outcome = { task: "listsessions", nextAuthid: "a", profiles: [{ id: "p<br>x", keys }] };
    expect(renderPlain(outcome)).toBe("AUTHID:a\nAccess granted\nSTART_USER_SESSIONS\n\n[px]\nname=nhost=evil\ncommand=c_x\napplications=ab\nsshport=22\n\nEND_USER_SESSIONS\n");
    const listed = (JSON.parse(renderJson({ ...outcome, task: "listprofiles" })) as { profiles: Record<string, unknown> }).profiles;
    expect(listed["px"]).toEqual({ name: "nhost=evil", command: "c_x", applications: ["ab"], sshport: 22 });
  });
});
