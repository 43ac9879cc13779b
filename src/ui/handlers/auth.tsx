/** Sign-in (before any session) and sign-out (a change: session and CSRF token required). */
import { Hono } from "hono";
import { z } from "zod";
import { BrokerError } from "../../core/errors.ts";
import { MAX_PASSWORD_LENGTH } from "../../users/users.ts";
import { validate } from "../../core/validation.ts";
import { LoginPage } from "../pages/login.tsx";
import { endUiSession, readUiSession, startUiSession } from "../session.ts";
import { accessIdentity, signInPrincipal } from "../sign-in.ts";
import { formFields, render, type UiContext, type UiEnv } from "../ui-env.ts";

const signInForm = z.discriminatedUnion("method", [
  z.object({ method: z.literal("token"), token: z.string().min(1).max(4096) }),
  z.object({ method: z.literal("password"), login: z.string().min(1).max(256), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) }),
  z.object({ method: z.literal("access") }),
]);

const GENERIC_FAILURE = "Sign-in failed. Check what you typed, or ask another admin.";

async function loginPage(c: UiContext, extra: { error?: string; notice?: string }, status: 200 | 401 | 429 = 200) {
  const access = await accessIdentity(c);
  return render(c, <LoginPage {...extra} accessLogin={access?.login} />, status);
}

/** `GET /login` and `POST /login`: mounted before the session check. */
export const loginUiRoutes = new Hono<UiEnv>()
  .get("/login", validate("query", z.object({ notice: z.enum(["signed-out"]).optional() })), async (c) => {
    if (await readUiSession(c)) return c.redirect("/admin/servers", 303);
    return loginPage(c, c.req.valid("query").notice ? { notice: "You are signed out." } : {});
  })
  .post("/login", async (c) => {
    const form = signInForm.safeParse(await formFields(c));
    try {
      if (!form.success) throw new BrokerError("UNAUTHORIZED", "incomplete sign-in form");
      const principal = await signInPrincipal(c, form.data);
      if (!(await startUiSession(c, principal))) throw new BrokerError("UNAUTHORIZED", "no signing key");
    } catch (error) {
      if (error instanceof BrokerError && error.code === "RATE_LIMITED") {
        c.header("Retry-After", error.getResponse().headers.get("Retry-After") ?? "60");
        return loginPage(c, { error: "Too many failed sign-ins from here; try again later." }, 429);
      }
      if (error instanceof BrokerError && error.code === "UNAUTHORIZED") return loginPage(c, { error: GENERIC_FAILURE }, 401);
      throw error;
    }
    return c.redirect("/admin/servers", 303);
  });

/** `POST /logout`: mounted after the session and CSRF checks. */
export const logoutUiRoutes = new Hono<UiEnv>().post("/logout", async (c) => {
  await endUiSession(c, c.get("ui"));
  return c.redirect("/admin/login?notice=signed-out", 303);
});
