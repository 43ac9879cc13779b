/**
 * Hostile X2Go broker requests. They carry no flaw: the X2Go frontends answer anything with a
 * tornado page or a pseudo-host (never a 5xx), whatever the method, body encoding, content type
 * and fields.
 */
import fc from "fast-check";
import {
  BAD_UTF8,
  type BodyPlan,
  type CredentialPlan,
  encodePiece,
  type HostileCase,
  headerValue,
  hostileString,
  INVALID_UTF8,
  JSON_TYPES,
  junkQuery,
  NOT_JSON_TYPES,
  noiseHeaders,
} from "./primitives.ts";

const X2GO_FIELDS = ["user", "password", "authid", "task", "sid", "profile-id", "login", "pubkey", "cookie"];
const X2GO_TASKS = ["listsessions", "listprofiles", "selectsession", "testcon", "", "LISTSESSIONS", "setpass", "clientconfig"];

/**
 * Hostile X2Go requests on the path shapes of `pattern` (`/plain`, `/plain/`,
 * `/plain/:backend/*`, same for `/json`): any method, body encoding, content type and fields.
 */
export function x2goCases(pattern: string, login: string, password: string): fc.Arbitrary<HostileCase> {
  const frontend = pattern.startsWith("/json") ? "/json" : "/plain";
  // Dot segments would be resolved away by the URL parser, leaving the X2Go paths.
  const segment = fc.oneof(fc.constantFrom("inifile", "zipfile", "INIFILE", "bogus"), hostileString.map(encodePiece)).filter((piece) => !/^(\.|%2e){1,2}$/i.test(piece));
  const path: fc.Arbitrary<string> = pattern.endsWith("/*")
    ? fc.tuple(segment.filter((backend) => backend !== ""), fc.array(segment, { maxLength: 3 })).map(([backend, rest]) => `${frontend}/${backend}/${rest.join("/")}`)
    : fc.constant(pattern);
  const field = fc.tuple(fc.oneof(fc.constantFrom(...X2GO_FIELDS), hostileString), hostileString);
  const credentials = fc.constantFrom<Array<[string, string]> | "sign-in">(
    [],
    [["user", "nobody-here"], ["password", "whatever-1"], ["authid", ""]],
    [["user", login], ["password", "wrong-password-1"], ["authid", ""]],
    [["user", login], ["authid", "00000000-0000-4000-8000-000000000000"]],
    "sign-in",
  );
  const task = fc.oneof(fc.constantFrom(...X2GO_TASKS), hostileString);
  const encoding = fc.constantFrom("urlencoded", "multipart", "broken-multipart", "json", "raw", "oversized", "none");
  const method = fc.oneof({ arbitrary: fc.constant("POST"), weight: 6 }, { arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS"), weight: 1 });
  const contentType = fc.option(fc.oneof(fc.constantFrom(...NOT_JSON_TYPES, ...JSON_TYPES, "multipart/form-data"), headerValue), { freq: 3 });
  return fc
    .tuple(method, path, fc.array(field, { maxLength: 6 }), credentials, task, encoding, contentType, junkQuery([]), noiseHeaders, fc.constantFrom(...INVALID_UTF8), fc.uint8Array({ maxLength: 512 }))
    .map(([verb, where, fields, creds, taskName, how, type, junk, headers, badBytes, raw]) => {
      const signsIn = creds === "sign-in";
      const all: Array<[string, string]> = [...fields, ["task", taskName], ...(signsIn ? ([["user", login], ["password", password], ["authid", ""]] as Array<[string, string]>) : creds)];
      const clean = all.map(([key, value]) => [key.replaceAll(BAD_UTF8, "\ufffd"), value] as [string, string]);
      const form = new URLSearchParams(clean.map(([key, value]) => [key, value.replaceAll(BAD_UTF8, "\ufffd")])).toString().replaceAll(encodeURIComponent("\ufffd"), BAD_UTF8);
      const body: BodyPlan | null = (() => {
        switch (how) {
          case "urlencoded":
            return { text: form, contentType: type ?? "application/x-www-form-urlencoded" };
          case "multipart":
            return { text: multipart(clean), contentType: "multipart/form-data; boundary=hostile-boundary" };
          case "broken-multipart":
            return { text: multipart(clean).slice(0, -10), contentType: type ?? "multipart/form-data; boundary=other" };
          case "json":
            return { text: JSON.stringify(Object.fromEntries(clean)), contentType: "application/json" };
          case "raw":
            return { text: "", raw, contentType: type };
          case "oversized":
            return { text: `${form}&pad=${"p".repeat(70_000)}`, contentType: "application/x-www-form-urlencoded" };
          default:
            return null;
        }
      })();
      return {
        flaw: `${how} body, ${signsIn ? "signed in" : "not signed in"}`,
        method: verb,
        path: where,
        query: junk.join("&"),
        headers,
        credential: { kind: "none" } as CredentialPlan,
        body: verb === "GET" ? null : body,
        badBytes,
        signsIn: signsIn && verb === "POST",
      };
    });
}

function multipart(fields: Array<[string, string]>): string {
  const parts = fields.map(([key, value]) => `--hostile-boundary\r\nContent-Disposition: form-data; name="${key.replaceAll('"', "")}"\r\n\r\n${value}\r\n`);
  return `${parts.join("")}--hostile-boundary--\r\n`;
}

