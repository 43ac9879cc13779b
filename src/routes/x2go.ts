/**
 * The X2Go Session Broker HTTP protocol (`/plain/` for x2goclient, `/json/` for python-x2go and
 * pyhoca-cli), so real X2Go clients work against this broker unchanged.
 *
 * Paths: `/plain/` and `/json/`, optionally followed by an x2gobroker backend name (`inifile`,
 * `zipfile`) and anything after it, all served from our profiles alike; any other backend, or a
 * path without the trailing slash, is 404 (as in x2gobroker). Only POST is served: GET and other
 * methods are 405, as x2gobroker intends in production (the Debian build's debug mode, which
 * accepts GET, would put passwords into URLs and logs). Parameters come from the form body (of
 * any Content-Type) and the query string (see src/x2go/form.ts). Errors never use the JSON
 * envelope (src/x2go/responses.ts). A request with `Authorization: Bearer` acts as that token's
 * user (src/x2go/auth.ts); a bearer that does not authenticate a user is the generic 401.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { bearerToken } from "../auth/admin.ts";
import type { Identity } from "../auth/identity.ts";
import { identify } from "../auth/user-auth.ts";
import { unauthorized } from "../core/errors.ts";
import type { AppEnv } from "../env.ts";
import { type Frontend, runX2goTask, TESTCON_TASK } from "../x2go/broker.ts";
import { readX2goParams } from "../x2go/form.ts";
import { JSON_TESTCON_BODY, renderJson } from "../x2go/json.ts";
import { PLAIN_TESTCON_BODY, renderPlain } from "../x2go/plain.ts";
import { tornadoPage, x2goAnswer, x2goErrorResponse } from "../x2go/responses.ts";

/** x2gobroker's backend names; every one is served from the same profiles. */
const BACKENDS = new Set(["inifile", "zipfile"]);
/** A request is a few short fields and at most an SSH public key. */
const MAX_BODY_BYTES = 64 * 1024;

/** The user a bearer token speaks for; undefined without one; the generic 401 for one that speaks for no user. */
async function bearerIdentity(c: Context<AppEnv>): Promise<Identity | undefined> {
  if (bearerToken(c.req.header("Authorization")) === null) return undefined;
  const identity = await identify(c);
  if (!identity || identity.source === "admin-token") throw unauthorized();
  return identity;
}

function serve(frontend: Frontend) {
  return async (c: Context<AppEnv>) => {
    const backend = c.req.param("backend");
    if (backend !== undefined && !BACKENDS.has(backend)) return tornadoPage(404);
    if (c.req.method !== "POST") return tornadoPage(405, { Allow: "POST" });
    const params = await readX2goParams(c.req.raw);
    if (params.task === TESTCON_TASK) return x2goAnswer(frontend, frontend === "plain" ? PLAIN_TESTCON_BODY : JSON_TESTCON_BODY);
    const outcome = await runX2goTask(c.env, frontend, params, c.get("clientIp"), Date.now(), await bearerIdentity(c));
    return x2goAnswer(frontend, frontend === "plain" ? renderPlain(outcome) : renderJson(outcome));
  };
}

export const x2goRoutes = new Hono<AppEnv>()
  .use("/plain/*", bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => tornadoPage(413) }))
  .use("/json/*", bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => tornadoPage(413) }))
  .all("/plain", () => tornadoPage(404))
  .all("/json", () => tornadoPage(404))
  .all("/plain/", serve("plain"))
  .all("/plain/:backend/*", serve("plain"))
  .all("/json/", serve("json"))
  .all("/json/:backend/*", serve("json"))
  .onError((error, c) => x2goErrorResponse(error, c.get("requestId")));
