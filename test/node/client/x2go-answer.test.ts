/** The X2Go broker protocol as the helper reads and rewrites it (client/x2go-answer.ts): pure, table-driven. */
import { describe, expect, it } from "vitest";
import { frontendOf, readRequest, rewriteAnswer, selectedServer } from "../../../client/x2go-answer.ts";

const form = (fields: Record<string, string>) => Buffer.from(new URLSearchParams(fields).toString());

describe("x2go requests", () => {
  it.each([
    ["/plain/", "plain"],
    ["/plain/inifile/x?y=1", "plain"],
    ["/json/", "json"],
    ["/plain", null],
    ["/other/", null],
  ])("serves %s as %s", (path, frontend) => {
    expect(frontendOf(path)).toBe(frontend);
  });

  it("reads the task and profile as the broker does: sid for plain, profile-id for JSON, the body over the query", () => {
    expect(readRequest("plain", "task=listsessions", form({ task: "selectsession", sid: " desk " }), "application/x-www-form-urlencoded")).toEqual({ task: "selectsession", profileId: "desk" });
    expect(readRequest("json", "", form({ task: "selectsession", "profile-id": "desk" }), undefined)).toEqual({ task: "selectsession", profileId: "desk" });
    expect(readRequest("json", "", form({ task: "selectsession", sid: "first", "profile-id": "second" }), undefined)).toEqual({ task: "selectsession", profileId: "first" });
    expect(readRequest("plain", "", form({ task: "selectsession", sid: "desk" }), "multipart/form-data; boundary=x")).toEqual({ task: "", profileId: "" });
  });
});

describe("x2go answers", () => {
  const plain = "AUTHID:\nAccess granted\nSERVER:node-17.example.org:22\nSESSION_INFO:0|alice-50-1|50|node-17|S|…\n";
  const json = JSON.stringify({ "next-authid": "", selected_session: { server: "node-17", port: "2222", session_info: "x" }, task: "selectsession" });

  it("finds the selected server in either frontend", () => {
    expect(selectedServer("plain", plain)).toEqual({ host: "node-17.example.org", port: 22 });
    expect(selectedServer("json", json)).toEqual({ host: "node-17", port: 2222 });
  });

  it.each([
    ["plain", "AUTHID:x\nAccess granted\nSERVER:no-server-available:22\n"],
    ["plain", "AUTHID:x\nAccess granted\nSERVER:no-X2Go-Server-available:22\n"],
    ["plain", "AUTHID:x\nAccess granted\nSERVER:node:0\n"],
    ["plain", "AUTHID:x\nAccess granted\n"],
    ["json", JSON.stringify({ selected_session: {} })],
    ["json", JSON.stringify({ selected_session: { server: "node", port: "70000" } })],
    ["json", "not json"],
  ] as const)("finds no server to tunnel to in %s %j", (frontend, body) => {
    expect(selectedServer(frontend, body)).toBeNull();
  });

  it("rewrites the server to the local port and the cookie to the helper's, leaving the rest", () => {
    const local = { host: "127.0.0.1", port: 40022 };
    expect(rewriteAnswer("plain", plain, local, "cookie-1")).toBe("AUTHID:cookie-1\nAccess granted\nSERVER:127.0.0.1:40022\nSESSION_INFO:0|alice-50-1|50|node-17|S|…\n");
    expect(JSON.parse(rewriteAnswer("json", json, local, "cookie-1"))).toEqual({ "next-authid": "cookie-1", selected_session: { server: "127.0.0.1", port: "40022", session_info: "x" }, task: "selectsession" });
  });

  it("only replaces the cookie of a listing", () => {
    const listing = "AUTHID:\nAccess granted\nSTART_USER_SESSIONS\n\n[desk]\nname=Desk\n\nEND_USER_SESSIONS\n";
    expect(rewriteAnswer("plain", listing, null, "c")).toBe(listing.replace("AUTHID:", "AUTHID:c"));
  });
});
