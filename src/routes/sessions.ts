/** The user's side (`/v1/`, user auth): my profiles, my sessions cluster-wide, start, resume and terminate. */
import { Hono } from "hono";
import { z } from "zod";
import { requireUser } from "../auth/user-auth.ts";
import type { AppEnv } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import { profilesFor } from "../profiles/profiles.ts";
import { rateLimit, TICKET_RULE, userKey } from "../core/rate-limit.ts";
import { terminateSession } from "../sessions/launch.ts";
import { listSessions, resumeSession, startSession } from "../sessions/user-sessions.ts";
import { validate } from "../core/validation.ts";

const profileIdSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, "not a profile id");

export const sessionsQuerySchema = z.object({ user: z.string().min(1).max(256).optional(), all: z.enum(["true", "false"]).optional() });
export const startSessionBodySchema = z.strictObject({ profileId: profileIdSchema, data: z.record(z.string().min(1).max(64), z.json()).default({}) });
export const resumeParamSchema = z.object({ sessionId: z.string().min(1).max(256) });
export const resumeBodySchema = z.strictObject({ profileId: profileIdSchema });

// Mounted at `/v1`, so user auth is per route: a `.use()` here would also guard /v1/agent.
export const sessionRoutes = new Hono<AppEnv>()
  .get("/profiles", requireUser, async (c) => {
    const profiles = await profilesFor(c.env, c.get("identity"), c.get("clientIp"));
    return c.json({ profiles: profiles.map(({ id, name, pool, mode, command }) => ({ id, name, pool, mode, command })) });
  })
  .get(
    "/sessions",
    requireUser,
    validate("query", sessionsQuerySchema),
    async (c) => {
      const identity = c.get("identity");
      const { user, all } = c.req.valid("query");
      const wantsOthers = all === "true" || (user !== undefined && user !== identity.login);
      if (wantsOthers && !identity.isAdmin) throw new BrokerError("FORBIDDEN", "only admins may list other users' sessions");
      const login = all === "true" ? null : (user ?? identity.login);
      return c.json({ sessions: await listSessions(c.env, login) });
    },
  )
  .post(
    "/sessions",
    requireUser,
    rateLimit(TICKET_RULE, userKey),
    validate("json", startSessionBodySchema),
    async (c) => {
      const { profileId, data } = c.req.valid("json");
      const context = { clientIp: c.get("clientIp"), requestUrl: c.req.url };
      const answer = await startSession(c.env, c.get("identity"), profileId, context, data);
      return c.json(answer, answer.state === "running" ? 201 : 202);
    },
  )
  .post(
    "/sessions/:sessionId/resume",
    requireUser,
    rateLimit(TICKET_RULE, userKey),
    validate("param", resumeParamSchema),
    validate("json", resumeBodySchema),
    async (c) => {
      const context = { clientIp: c.get("clientIp"), requestUrl: c.req.url };
      return c.json(await resumeSession(c.env, c.get("identity"), c.req.valid("param").sessionId, c.req.valid("json").profileId, context));
    },
  )
  .delete(
    "/sessions/:sessionId",
    requireUser,
    rateLimit(TICKET_RULE, userKey),
    validate("param", resumeParamSchema),
    async (c) => {
      const identity = c.get("identity");
      const sessions = await listSessions(c.env, identity.isAdmin ? null : identity.login);
      await terminateSession(c.env, identity, sessions, c.req.valid("param").sessionId);
      return c.body(null, 204);
    },
  );
