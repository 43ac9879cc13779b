/**
 * The portal pages' JSON calls, under `/portal/api/` (portal session and CSRF token required):
 *   GET  /state                          my profiles and sessions (polled by the home page)
 *   POST /sessions                       { profileId } → start: the session and how to connect (201; 202 while it starts)
 *   POST /sessions/:sessionId/connect    { profileId } → a fresh relay ticket for one of my sessions
 *   GET  /queue/:queueId?wait=&position= my place in a wait line (a long-poll), then the start's answer
 *   POST /queue/:queueId/leave           leave my place in a wait line (204; 404 for a place that is not mine)
 * Starts and connects count against the per-user ticket rate limit, like the API's.
 */
import { Hono } from "hono";
import { z } from "zod";
import { BrokerError } from "../core/errors.ts";
import { rateLimit, TICKET_RULE, userKey } from "../core/rate-limit.ts";
import { validate } from "../core/validation.ts";
import { profileIdSchema } from "../profiles/profile-schema.ts";
import { queueParamSchema, queueQuerySchema } from "../routes/queue.ts";
import { resumeSession, startSession } from "../sessions/user-sessions.ts";
import { leaveQueue, queueStatus } from "../sessions/wait-line.ts";
import { portalProfiles, portalState } from "./desktops.ts";
import type { PortalContext, PortalEnv } from "./portal-env.ts";

export const portalStartSchema = z.strictObject({ profileId: profileIdSchema });
export const portalSessionParamSchema = z.object({ sessionId: z.string().min(1).max(256) });

function clientContext(c: PortalContext) {
  return { clientIp: c.get("clientIp"), requestUrl: c.req.url };
}

/** A profile the user may open in the browser; a hidden, missing or redirect-mode one is the same 404. */
export async function requireBrowserProfile(c: PortalContext, profileId: string): Promise<{ id: string; name: string }> {
  const profile = (await portalProfiles(c.env, c.get("identity"), c.get("clientIp"))).find((candidate) => candidate.id === profileId);
  if (!profile || profile.mode !== "relay") throw new BrokerError("NOT_FOUND", `no desktop profile ${profileId} opens in the browser for you`);
  return { id: profile.id, name: profile.name };
}

export const portalApiRoutes = new Hono<PortalEnv>()
  .get("/state", async (c) => c.json(await portalState(c.env, c.get("identity"), c.get("clientIp"))))
  .post("/sessions", rateLimit(TICKET_RULE, userKey), validate("json", portalStartSchema), async (c) => {
    const { profileId } = c.req.valid("json");
    await requireBrowserProfile(c, profileId);
    const answer = await startSession(c.env, c.get("identity"), profileId, clientContext(c), {});
    return c.json(answer, answer.state === "running" ? 201 : 202);
  })
  .get("/queue/:queueId", validate("param", queueParamSchema), validate("query", queueQuerySchema), async (c) => {
    const { wait, position } = c.req.valid("query");
    const waitFor = { waitMs: wait * 1000, ...(position === undefined ? {} : { knownPosition: position }) };
    return c.json(await queueStatus(c.env, c.get("identity"), c.req.valid("param").queueId, clientContext(c), waitFor));
  })
  .post("/queue/:queueId/leave", validate("param", queueParamSchema), async (c) => {
    await leaveQueue(c.env, c.get("identity"), c.req.valid("param").queueId);
    return c.body(null, 204);
  })
  .post("/sessions/:sessionId/connect", rateLimit(TICKET_RULE, userKey), validate("param", portalSessionParamSchema), validate("json", portalStartSchema), async (c) => {
    const { profileId } = c.req.valid("json");
    await requireBrowserProfile(c, profileId);
    return c.json(await resumeSession(c.env, c.get("identity"), c.req.valid("param").sessionId, profileId, clientContext(c)));
  });
