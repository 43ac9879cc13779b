/** Sessions across the cluster (`listSessions`), filtered by user and server. */
import { Hono } from "hono";
import { z } from "zod";
import { listSessions } from "../../sessions/user-sessions.ts";
import { validate } from "../../core/validation.ts";
import { SessionsPage } from "../pages/sessions.tsx";
import { render, type UiEnv } from "../ui-env.ts";

const filterQuery = z.object({
  user: z.string().trim().max(256).default(""),
  server: z.string().trim().max(256).default(""),
});

export const sessionUiRoutes = new Hono<UiEnv>().get("/sessions", validate("query", filterQuery), async (c) => {
  const { user, server } = c.req.valid("query");
  const all = await listSessions(c.env, user === "" ? null : user);
  const sessions = server === "" ? all : all.filter((session) => session.serverId === server || session.hostname === server);
  return render(c, <SessionsPage session={c.get("ui")} sessions={sessions} user={user} server={server} />);
});
