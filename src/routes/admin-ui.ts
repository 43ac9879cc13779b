/**
 * The admin dashboard at `/admin`: server-rendered HTML (Hono JSX, `src/ui/`) over the same
 * domain functions as the JSON admin API. Sign-in issues an HttpOnly, Secure, SameSite=Strict
 * session cookie (`src/ui/session.ts`); every change needs this Worker's own `Origin` and the
 * session's CSRF token. Routes, all under `/admin`:
 *   GET  /assets/dashboard.css, /assets/dashboard.js    (public: no data)
 *   GET  /login, POST /login                            (admin token, admin account, or Access)
 *   POST /logout
 *   GET  /, /servers, /api/servers (JSON, polled)       POST /servers/:pool/:serverId/(drain|undrain|remove)
 *   GET  /sessions                                      POST /sessions/disconnect (a session, or a user everywhere)
 *   GET  /pools, /pools/:pool                           POST /pools, /pools/:pool/policy, /pools/:pool/dry-run
 *   GET  /decisions, /enrolment                         POST /enrolment
 *   GET  /users, /profiles                              POST /users, /users/:login/(enable|disable|disconnect|delete),
 *                                                            /profiles, /profiles/:id/delete
 * Errors render as an HTML page, or as the JSON envelope for `/admin/api/*` and JSON callers.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { BrokerError, type ErrorCode, errorBody } from "../core/errors.ts";
import { DASHBOARD_JS } from "../ui/assets/client-script.ts";
import { DASHBOARD_CSS } from "../ui/assets/styles.ts";
import { requireCsrfToken, requireSameOrigin, requireUiSession, securityHeaders } from "../ui/guard.ts";
import { auditUiRoutes } from "../ui/handlers/audit.tsx";
import { loginUiRoutes, logoutUiRoutes } from "../ui/handlers/auth.tsx";
import { peopleUiRoutes } from "../ui/handlers/people.tsx";
import { poolUiRoutes } from "../ui/handlers/pools.tsx";
import { serverUiRoutes } from "../ui/handlers/servers.tsx";
import { sessionUiRoutes } from "../ui/handlers/sessions.tsx";
import { errorPage } from "../ui/pages/message.tsx";
import { type UiEnv, wantsJson } from "../ui/ui-env.ts";
import { log } from "../core/log.ts";

/** Policies with script steps and imported profiles are the largest forms. */
const MAX_FORM_BYTES = 1024 * 1024;

function asset(body: string, type: string) {
  return () => new Response(body, { headers: { "Content-Type": type, "Cache-Control": "no-cache" } });
}

export const adminUiRoutes = new Hono<UiEnv>()
  .use(securityHeaders)
  .use(
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: () => {
        throw new BrokerError("PAYLOAD_TOO_LARGE", `the form exceeds ${MAX_FORM_BYTES} bytes`);
      },
    }),
  )
  .use(requireSameOrigin)
  .get("/assets/dashboard.css", asset(DASHBOARD_CSS, "text/css; charset=utf-8"))
  .get("/assets/dashboard.js", asset(DASHBOARD_JS, "text/javascript; charset=utf-8"))
  .route("/", loginUiRoutes)
  .use(requireUiSession)
  .use(requireCsrfToken)
  .get("/", (c) => c.redirect("/admin/servers", 303))
  .route("/", logoutUiRoutes)
  .route("/", serverUiRoutes)
  .route("/", sessionUiRoutes)
  .route("/", poolUiRoutes)
  .route("/", auditUiRoutes)
  .route("/", peopleUiRoutes)
  .all("*", (c) => {
    if (c.req.path === "/admin/" && c.req.method === "GET") return c.redirect("/admin/servers", 303);
    throw new BrokerError("NOT_FOUND", `no dashboard page at ${c.req.path}`);
  })
  .onError((error, c) => {
    let code: ErrorCode = "INTERNAL";
    let message = "internal error";
    let status: ContentfulStatusCode = 500;
    if (error instanceof BrokerError) {
      ({ code, message } = error);
      status = error.status;
    } else if (error instanceof HTTPException && error.status < 500) {
      code = error.status === 401 ? "UNAUTHORIZED" : error.status === 403 ? "FORBIDDEN" : "BAD_REQUEST";
      message = error.message || "bad request";
      status = error.status;
    }
    if (status >= 500) log.error(`[${c.get("requestId")}] dashboard error`, error);
    if (wantsJson(c)) return c.json(errorBody(code, message, c.get("requestId")), status);
    return errorPage(c, status, message);
  });
