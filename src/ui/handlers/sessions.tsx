/**
 * Sessions across the cluster (`listSessions`), filtered by user and server, and disconnecting:
 * one session's live connections on its server, or one user's on every connected server (the
 * same functions as the admin API; the clients see close code 4000 with the reason), and
 * terminating a launched session (as `DELETE /v1/sessions/:id` does for an admin); the pools'
 * wait lines, and taking someone out of one.
 */
import { Hono } from "hono";
import { z } from "zod";
import { DEFAULT_DISCONNECT_REASON, disconnectOnServer, disconnectUser } from "../../cluster/node-commands.ts";
import { poolNameSchema, serverIdSchema } from "../../protocol.ts";
import { ENDED_BY_ADMIN, terminateOnServer } from "../../sessions/launch.ts";
import { listSessions } from "../../sessions/user-sessions.ts";
import { poolQueue, removeFromQueue } from "../../sessions/wait-line.ts";
import { listPools } from "../../db/queries.ts";
import { queueEntryParam } from "../../routes/queue-admin.ts";
import { validate } from "../../core/validation.ts";
import { noticeText } from "../components/forms.tsx";
import { SessionsPage } from "../pages/sessions.tsx";
import { readForm, render, type UiEnv } from "../ui-env.ts";

const filterQuery = z.object({
  user: z.string().trim().max(256).default(""),
  server: z.string().trim().max(256).default(""),
  notice: z.string().max(32).optional(),
});

/** A session on its server, or a user everywhere. */
export const disconnectForm = z.union([
  z.object({ pool: poolNameSchema, serverId: serverIdSchema, sessionId: z.string().min(1).max(256) }),
  z.object({ user: z.string().min(1).max(256) }),
]);

/** A place in a pool's wait line. */
export const removeQueuedForm = queueEntryParam;

/** A launched session on its server. */
export const terminateForm = z.object({ pool: poolNameSchema, serverId: serverIdSchema, sessionId: z.string().min(1).max(256) });

export const sessionUiRoutes = new Hono<UiEnv>()
  .get("/sessions", validate("query", filterQuery), async (c) => {
    const { user, server, notice } = c.req.valid("query");
    const all = await listSessions(c.env, user === "" ? null : user);
    const sessions = server === "" ? all : all.filter((session) => session.serverId === server || session.hostname === server);
    const pools = await listPools(c.env.DB);
    const waiting = (await Promise.all(pools.map(async (pool) => (await poolQueue(c.env, pool.name)).map((entry) => ({ ...entry, pool: pool.name }))))).flat();
    return render(c, <SessionsPage session={c.get("ui")} sessions={sessions} waiting={waiting} user={user} server={server} notice={noticeText(notice)} />);
  })
  .post("/sessions/queue/remove", async (c) => {
    const form = await readForm(c, removeQueuedForm);
    await removeFromQueue(c.env, form.pool, form.entryId);
    return c.redirect("/admin/sessions?notice=queue-removed", 303);
  })
  .post("/sessions/disconnect", async (c) => {
    const form = await readForm(c, disconnectForm);
    if ("user" in form) {
      const report = await disconnectUser(c.env, form.user, DEFAULT_DISCONNECT_REASON);
      return c.redirect(`/admin/sessions?notice=${report.failed.length > 0 ? "user-disconnect-incomplete" : "user-disconnected"}`, 303);
    }
    await disconnectOnServer(c.env, form.pool, form.serverId, { sessionId: form.sessionId }, DEFAULT_DISCONNECT_REASON);
    return c.redirect("/admin/sessions?notice=session-disconnected", 303);
  })
  .post("/sessions/terminate", async (c) => {
    const form = await readForm(c, terminateForm);
    await terminateOnServer(c.env, form.pool, form.serverId, form.sessionId, ENDED_BY_ADMIN);
    return c.redirect("/admin/sessions?notice=session-terminated", 303);
  });
