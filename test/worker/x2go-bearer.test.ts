/**
 * X2Go broker requests with `Authorization: Bearer` (issue 17: the `edge-desktop` helper passes an
 * X2Go client's requests on as its signed-in user): the token is the credential, the form's user
 * and password are not read, the answers carry no cookie, and a bearer that is not a user's is
 * the generic 401 page, whatever the form holds.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, beat, call, enrolNode, sampleBody, userToken } from "./helpers.ts";

const UNAUTHORIZED_PAGE = "<html><title>401: Unauthorized</title><body>401: Unauthorized</body></html>";
let bea: string;

function post(path: string, fields: Record<string, string>, bearer: string | null): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded", ...(bearer === null ? {} : { Authorization: `Bearer ${bearer}` }) };
  return call(path, { method: "POST", headers, body: new URLSearchParams(fields).toString() });
}

beforeAll(async () => {
  await admin("/v1/admin/pools", "POST", { name: "xb" });
  const node = await enrolNode("xb01", "xb");
  await beat(node, sampleBody({ sessions: [], users: [] }));
  for (const id of ["xb-open", "xb-staff"]) {
    const acl = id === "xb-staff" ? { groups: { allow: ["staff"] } } : {};
    expect((await admin("/v1/admin/profiles", "POST", { id, name: id, pool: "xb", mode: "relay", service: "ssh", maxSessionsPerUser: 100, acl })).status).toBe(201);
  }
  bea = await userToken("bea");
});

describe("X2Go requests with a bearer token", () => {
  it("list the token user's profiles on /plain/, with no cookie, whatever user and password the form names", async () => {
    const response = await post("/plain/", { task: "listsessions", user: "someone-else", password: "wrong", authid: "" }, bea);
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toMatch(/^AUTHID:\nAccess granted\nSTART_USER_SESSIONS\n/);
    expect(body).toContain("[xb-open]");
    expect(body).not.toContain("[xb-staff]");
  });

  it("select on /json/ as the token user, with an empty next-authid", async () => {
    const response = await post("/json/", { task: "selectsession", user: "bea", "profile-id": "xb-open", authid: "" }, bea);
    expect(response.status).toBe(200);
    const answer = JSON.parse(await response.text()) as { "next-authid": string; selected_session: { server: string; port: string } };
    expect(answer["next-authid"]).toBe("");
    expect(answer.selected_session).toEqual({ server: "xb01", port: "22" });
  });

  it("answer the generic 401 page for a bearer that is no user's, even with a valid form password", async () => {
    await userToken("formuser", [], "form-password-1");
    for (const bearer of ["not-a-token", ADMIN_TOKEN]) {
      const response = await post("/plain/", { task: "listsessions", user: "formuser", password: "form-password-1", authid: "" }, bearer);
      expect(response.status).toBe(401);
      expect(await response.text()).toBe(UNAUTHORIZED_PAGE);
    }
  });

  it("leave requests without a bearer as they were: the form's credentials", async () => {
    const response = await post("/plain/", { task: "listsessions", user: "formuser", password: "form-password-1", authid: "" }, null);
    expect(await response.text()).toMatch(/^AUTHID:[0-9a-f-]{36}\nAccess granted\n/);
  });
});
