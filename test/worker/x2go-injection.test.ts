/**
 * X2Go key injection: x2goclient replaces every `<br>` of a listing by a line break before it
 * reads the listing as INI, so profile text holding `<br>` (in any case, or nested so that one
 * removal leaves another) or a line break would become keys of its own. Such text is refused on
 * every write path (admin API create and replace, pool config import, X2Go conf import, the
 * dashboard's profile form), and values already stored, or reported by nodes, leave `/plain/`
 * and `/json/` with no `<br>` and no line break of any kind.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN, ADMIN_TOKEN, admin, beat, call, callJson, enrolNode, expectError, sampleBody } from "./helpers.ts";

const PASSWORD = "sweet-sweet-1";
const POOL = "inj";
const PAYLOAD = "Desk<b<br>r>host=evil.example<b<br>r>sshport=2222";
/** Every way a value could end up as a line break in some X2Go client, by name. */
const BREAKERS: Array<[string, string]> = [
  ["<br>", "<br>"],
  ["<BR>", "<BR>"],
  ["<bR>", "<bR>"],
  ["<b<br>r>", "<b<br>r>"],
  ["<<br>br>>", "<<br>br>>"],
  ["LF", "\n"],
  ["CR", "\r"],
  ["NEL (U+0085)", "\u0085"],
  ["LINE SEPARATOR (U+2028)", "\u2028"],
  ["PARAGRAPH SEPARATOR (U+2029)", "\u2029"],
];
/** Characters some reader takes for a line end: C0, DEL, C1, U+2028/2029. */
const LINE_BREAKING = /[\p{Cc}\u2028\u2029]/u;

function form(path: string, fields: Record<string, string>): Promise<Response> {
  return call(path, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
}

async function expectBrRefused(response: Response): Promise<void> {
  const body = (await response.clone().json()) as { error: { message: string } };
  await expectError(response, 400, "BAD_REQUEST");
  expect(body.error.message).toMatch(/<br>|control characters/);
}

/** The listing as x2goclient reads it: `<br>` turned into line breaks, then `key=value` lines per section. */
function x2goclientSections(body: string): Map<string, Map<string, string>> {
  const listing = body.replaceAll("<br>", "\n").split("START_USER_SESSIONS\n")[1]?.split("END_USER_SESSIONS\n")[0] ?? "";
  const sections = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  for (const line of listing.split("\n")) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1]) sections.set(header[1], (current = new Map()));
    else if (line.includes("=")) current.set(line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1));
  }
  return sections;
}

beforeAll(async () => {
  expect((await admin("/v1/admin/pools", "POST", { name: POOL })).status).toBe(201);
  const node = await enrolNode("inj01", POOL, { clientAddress: "inj01.example.org:2201" });
  const hostileId = "s<b<br>r>host=evil|SESSION_INFO:x\u2028y\u0085z";
  await beat(node, sampleBody({ sessions: [{ id: hostileId, user: "ivy", state: "suspended", startedAt: 1_700_000_000_000 }], users: ["ivy"] }));
  expect((await admin("/v1/admin/users", "POST", { login: "ivy", password: PASSWORD })).status).toBe(201);
  const stored = { id: "stored", name: "Stored", pool: POOL, mode: "redirect", hosts: [{ name: "inj01" }], x2goOptions: { sshport: 22 } };
  expect((await admin("/v1/admin/profiles", "POST", stored)).status).toBe(201);
  // Values an older broker accepted, or anyone with D1 access wrote: only the answers' encoding stands between them and the client.
  const options = { sshport: 22, sessiontitle: "t<BR>sshport=1", applications: ["a<b<br>r>b", "c\u2028d"], user: "u<Br>host=evil", rdpoptions: "o\u0085x" };
  await env.DB.prepare("UPDATE profiles SET name = ?, command = ?, x2go_options = ? WHERE id = 'stored'")
    .bind(PAYLOAD, "xterm<<br>br>>command=evil", JSON.stringify(options))
    .run();
});

describe("x2go injection: every write path refuses <br> and line breaks", () => {
  it("refuses the nested payload as a name on create and replace (admin API)", async () => {
    await expectBrRefused(await admin("/v1/admin/profiles", "POST", { id: "w-create", name: PAYLOAD, pool: POOL, mode: "redirect" }));
    expect((await admin("/v1/admin/profiles/w-create")).status).toBe(404);
    expect((await admin("/v1/admin/profiles", "POST", { id: "w-put", name: "Fine", pool: POOL, mode: "redirect" })).status).toBe(201);
    await expectBrRefused(await admin("/v1/admin/profiles/w-put", "PUT", { name: PAYLOAD, pool: POOL, mode: "redirect" }));
    expect(((await (await admin("/v1/admin/profiles/w-put")).json()) as { name: string }).name).toBe("Fine");
  });

  it("refuses the nested payload in a pool config import, and imports nothing", async () => {
    const document = { version: 1, pool: { name: "inj-cfg", intervalMs: 10_000, policy: null }, profiles: [{ id: "w-config", name: PAYLOAD, mode: "redirect" }], nodes: [] };
    await expectBrRefused(await callJson("/v1/admin/pools/inj-cfg/import", "POST", document, ADMIN));
    expect((await admin("/v1/admin/profiles/w-config")).status).toBe(404);
  });

  it("refuses the nested payload in an X2Go sessionprofiles.conf import, and imports nothing", async () => {
    const conf = `[w-conf]\nname=${PAYLOAD}\nhost=inj01\n`;
    const response = await call(`/v1/admin/profiles/import?pool=${POOL}`, { method: "POST", headers: { ...ADMIN, "Content-Type": "text/plain" }, body: conf });
    await expectBrRefused(response);
    expect((await admin("/v1/admin/profiles/w-conf")).status).toBe(404);
  });

  it("refuses the nested payload in the dashboard's profile form, and creates nothing", async () => {
    const headers = { Origin: "https://broker.test", "Content-Type": "application/x-www-form-urlencoded" };
    const signIn = await call("/admin/login", { method: "POST", headers, body: new URLSearchParams({ method: "token", token: ADMIN_TOKEN }).toString(), redirect: "manual" });
    const cookie = (signIn.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await (await call("/admin/profiles", { headers: { Cookie: cookie } })).text())?.[1] ?? "";
    const profile = JSON.stringify({ id: "w-ui", name: PAYLOAD, pool: POOL, mode: "redirect" });
    const response = await call("/admin/profiles", { method: "POST", headers: { ...headers, Cookie: cookie }, body: new URLSearchParams({ profile, _csrf: csrf }).toString(), redirect: "manual" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("x2goclient reads it as a line break");
    expect((await admin("/v1/admin/profiles/w-ui")).status).toBe(404);
  });

  it.each(BREAKERS.flatMap(([label, breaker]) => ["name", "command", "option value", "list option item"].map((field) => [label, field, breaker] as const)))(
    "refuses %s in a profile's %s",
    async (_label, field, breaker) => {
      const text = `a${breaker}host=evil`;
      const change =
        field === "name"
          ? { name: text }
          : field === "command"
            ? { command: text }
            : field === "option value"
              ? { x2goOptions: { sessiontitle: text } }
              : { x2goOptions: { applications: ["ok", text] } };
      await expectBrRefused(await admin("/v1/admin/profiles", "POST", { id: "w-each", name: "Each", pool: POOL, mode: "redirect", ...change }));
    },
  );

  it("still accepts text with angle brackets that are no <br>", async () => {
    const response = await admin("/v1/admin/profiles", "POST", { id: "w-ok", name: "a <b> r", pool: POOL, mode: "redirect", command: "sh -c 'x < y > z'" });
    expect(response.status).toBe(201);
  });
});

describe("x2go injection: stored and node-reported values are encoded in every answer", () => {
  it("lists the stored profile in /plain/ with no <br>, no line break and no injected key", async () => {
    const response = await form("/plain/", { task: "listsessions", user: "ivy", password: PASSWORD, authid: "" });
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).not.toMatch(/<br>/i);
    expect(body).not.toMatch(/[\u0080-\u009f\u2028\u2029]/);
    const stored = x2goclientSections(body).get("stored");
    expect(stored?.get("name")).toBe("Deskhost=evil.examplesshport=2222");
    expect(stored?.get("host")).toBe("inj01");
    expect(stored?.get("sshport")).toBe("22");
    expect(stored?.get("command")).toBe("xterm>command=evil");
    expect(stored?.get("user")).toBe("uhost=evil");
    expect(stored?.get("sessiontitle")).toBe("tsshport=1");
    expect(stored?.get("applications")).toBe("ab,c_d");
  });

  it("lists the stored profile in /json/ with no <br> and no line break in any value", async () => {
    const response = await form("/json/", { task: "listprofiles", user: "ivy", password: PASSWORD });
    expect(response.status).toBe(200);
    const profiles = (JSON.parse(await response.text()) as { profiles: Record<string, Record<string, unknown>> }).profiles;
    const stored = profiles["stored"];
    const values = Object.values(stored ?? {}).flat().filter((value): value is string => typeof value === "string");
    expect(values.length).toBeGreaterThan(3);
    for (const value of values) {
      expect(value).not.toMatch(/<br>/i);
      expect(value).not.toMatch(LINE_BREAKING);
    }
    expect(stored).toMatchObject({ name: "Deskhost=evil.examplesshport=2222", command: "xterm>command=evil", user: "uhost=evil", sshport: 22 });
  });

  it("answers a node-reported session id in SESSION_INFO as one line of 16 fields, in /plain/ and /json/", async () => {
    const plain = await (await form("/plain/", { task: "selectsession", sid: "stored", user: "ivy", password: PASSWORD, authid: "" })).text();
    expect(plain).not.toMatch(/<br>/i);
    expect(plain.split("SESSION_INFO:")).toHaveLength(2);
    const line = /\nSESSION_INFO:([^\n]*)\n$/.exec(plain)?.[1] ?? "";
    const json = (JSON.parse(await (await form("/json/", { task: "selectsession", "profile-id": "stored", user: "ivy", password: PASSWORD })).text()) as {
      selected_session: { session_info?: string };
    }).selected_session.session_info ?? "";
    for (const info of [line, json]) {
      expect(info).not.toMatch(/<br>/i);
      expect(info).not.toMatch(LINE_BREAKING);
      expect(info).not.toContain("SESSION_INFO:");
      const fields = info.split("|");
      expect(fields).toHaveLength(16);
      expect(fields[11]).toBe("ivy");
    }
  });
});
