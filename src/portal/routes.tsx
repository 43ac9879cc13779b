/**
 * The user's portal: `GET /` (sign-in, or my desktops) and everything under `/portal/`. Sign-in
 * issues an HttpOnly, Secure, SameSite=Strict cookie (src/portal/session.ts, the dashboard's
 * cookie machinery); every change needs this Worker's own `Origin` and the session's CSRF token;
 * every answer carries the dashboard's strict CSP. Routes:
 *   GET  /                                       sign-in page, or the home page (profiles, sessions)
 *   POST /portal/login, /portal/logout
 *   GET  /portal/desktop?profile=…[&session=…]   the desktop page (noVNC)
 *   POST /portal/sessions/:sessionId/terminate   (form; JSON callers get 204)
 *   /portal/api/…                                the pages' JSON calls (src/portal/api.ts)
 * The scripts and styles are static assets under /portal/assets/ (scripts/build-assets.ts).
 * Errors render as a page, or as the JSON envelope for `/portal/api/*` and JSON callers.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { BrokerError, type ErrorCode, errorBody } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { clientAddressKey, rateLimit, SIGN_IN_RULE, TICKET_RULE, userKey } from "../core/rate-limit.ts";
import { validate } from "../core/validation.ts";
import { profileIdSchema } from "../profiles/profile-schema.ts";
import { requireSameOrigin, securityHeaders } from "../ui/guard.ts";
import { formFields, render } from "../ui/ui-env.ts";
import { MAX_PASSWORD_LENGTH } from "../users/users.ts";
import { portalApiRoutes, portalSessionParamSchema, requireBrowserProfile } from "./api.ts";
import { portalState } from "./desktops.ts";
import { DesktopPage } from "./pages/desktop.tsx";
import { HOME_NOTICES, HomePage } from "./pages/home.tsx";
import { ErrorBox, PortalLayout } from "./pages/layout.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import { type PortalContext, type PortalEnv, wantsPortalJson } from "./portal-env.ts";
import { accessUser, endPortalSession, readPortalSession, requirePortalCsrf, requirePortalSession, startPortalSession } from "./session.ts";
import { portalPrincipal } from "./sign-in.ts";
import { terminateFromPortal } from "./terminate.ts";

/** Forms and JSON calls are small: a login, a profile id. */
const MAX_PORTAL_BODY_BYTES = 16 * 1024;

const signInForm = z.discriminatedUnion("method", [
  z.object({ method: z.literal("password"), login: z.string().min(1).max(256), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) }),
  z.object({ method: z.literal("access") }),
]);
export const portalHomeQuerySchema = z.object({ notice: z.string().max(32).optional() });
export const portalDesktopQuerySchema = z.object({ profile: profileIdSchema, session: z.string().min(1).max(256).optional() });

const SIGN_IN_FAILED = "Sign-in failed. Check your login and password.";

async function signInPage(c: PortalContext, extra: { error?: string; notice?: string }, status: 200 | 401 | 429 = 200) {
  const access = await accessUser(c);
  return render(c, <SignInPage {...extra} accessLogin={access?.login} />, status);
}

function errorPage(c: PortalContext, status: ContentfulStatusCode, message: string) {
  const title = status === 401 ? "Sign-in needed" : status === 403 ? "Refused" : status === 404 ? "Not found" : status < 500 ? "Not done" : "Something went wrong";
  return render(
    c,
    <PortalLayout title={title}>
      <ErrorBox text={message} />
      <p>
        <a href="/">Back to my desktops</a>
      </p>
    </PortalLayout>,
    status,
  );
}

export const portalRoutes = new Hono<PortalEnv>()
  .use("/", securityHeaders)
  .use("/portal/*", securityHeaders, requireSameOrigin)
  .use(
    "/portal/*",
    bodyLimit({
      maxSize: MAX_PORTAL_BODY_BYTES,
      onError: () => {
        throw new BrokerError("PAYLOAD_TOO_LARGE", `the body exceeds ${MAX_PORTAL_BODY_BYTES} bytes`);
      },
    }),
  )
  .use("/portal/logout", requirePortalSession, requirePortalCsrf)
  .use("/portal/desktop", requirePortalSession)
  .use("/portal/sessions/*", requirePortalSession, requirePortalCsrf)
  .use("/portal/api/*", requirePortalSession, requirePortalCsrf)
  .get("/", validate("query", portalHomeQuerySchema), async (c) => {
    const notice = c.req.valid("query").notice;
    const signedIn = await readPortalSession(c);
    if (!signedIn) return signInPage(c, notice === "signed-out" ? { notice: "You are signed out." } : {});
    const state = await portalState(c.env, signedIn.principal, c.get("clientIp"));
    const text = notice !== undefined && Object.hasOwn(HOME_NOTICES, notice) ? HOME_NOTICES[notice] : undefined;
    return render(c, <HomePage session={signedIn.session} identity={signedIn.principal} state={state} notice={text} />);
  })
  .post("/portal/login", rateLimit(SIGN_IN_RULE, clientAddressKey), async (c) => {
    const form = signInForm.safeParse(await formFields(c));
    try {
      if (!form.success) throw new BrokerError("UNAUTHORIZED", "incomplete sign-in form");
      if (!(await startPortalSession(c, await portalPrincipal(c, form.data)))) throw new BrokerError("UNAUTHORIZED", "no signing key");
    } catch (error) {
      if (error instanceof BrokerError && error.code === "RATE_LIMITED") {
        c.header("Retry-After", error.getResponse().headers.get("Retry-After") ?? "60");
        return signInPage(c, { error: "Too many failed sign-ins from here; try again later." }, 429);
      }
      if (error instanceof BrokerError && error.code === "UNAUTHORIZED") return signInPage(c, { error: SIGN_IN_FAILED }, 401);
      throw error;
    }
    return c.redirect("/", 303);
  })
  .post("/portal/logout", async (c) => {
    await endPortalSession(c, c.get("portal"));
    return c.redirect("/?notice=signed-out", 303);
  })
  .get("/portal/desktop", validate("query", portalDesktopQuerySchema), async (c) => {
    const { profile, session } = c.req.valid("query");
    const found = await requireBrowserProfile(c, profile);
    return render(c, <DesktopPage session={c.get("portal")} identity={c.get("identity")} profile={found} sessionId={session} />);
  })
  .post("/portal/sessions/:sessionId/terminate", rateLimit(TICKET_RULE, userKey), validate("param", portalSessionParamSchema), async (c) => {
    await terminateFromPortal(c.env, c.get("identity"), c.req.valid("param").sessionId);
    if (wantsPortalJson(c)) return c.body(null, 204);
    return c.redirect("/?notice=terminated", 303);
  })
  .route("/portal/api", portalApiRoutes)
  .all("/portal/*", (c) => {
    throw new BrokerError("NOT_FOUND", `no portal page at ${c.req.path}`);
  })
  .onError((error, c) => {
    let code: ErrorCode = "INTERNAL";
    let message = "internal error";
    let status: ContentfulStatusCode = 500;
    if (error instanceof BrokerError) {
      ({ code, message } = error);
      status = error.status;
      const retryAfter = error.res?.headers.get("Retry-After");
      if (retryAfter) c.header("Retry-After", retryAfter);
    } else if (error instanceof HTTPException && error.status < 500) {
      code = error.status === 401 ? "UNAUTHORIZED" : error.status === 403 ? "FORBIDDEN" : "BAD_REQUEST";
      message = error.message || "bad request";
      status = error.status;
    }
    if (status >= 500 && code === "INTERNAL") log.error(`[${c.get("requestId")}] portal error`, error);
    if (wantsPortalJson(c)) return c.json(errorBody(code, message, c.get("requestId")), status);
    return errorPage(c, status, message);
  });
