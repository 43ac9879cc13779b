/**
 * The dashboard and the control channel: the Servers page shows whether each node's channel is
 * connected; the Sessions page disconnects one session or one user, the Users page one user,
 * through the same functions as the admin API.
 */
import { afterEach, describe, expect, it } from "vitest";
import { admin, beat, dashboardSession, enrolNode, sampleBody } from "./helpers.ts";
import { FakeAgent } from "./channel/fake-agent.ts";

afterEach(() => FakeAgent.closeAll());

type Disconnect = { method: "disconnect"; params: { target: Record<string, string>; reason: string } };
const isDisconnect = (message: unknown): message is Disconnect => typeof message === "object" && message !== null && (message as { method?: unknown }).method === "disconnect";

describe("dashboard: the control channel", () => {
  it("shows each server's channel as connected or not, live and sortable", async () => {
    const ui = await dashboardSession();
    const on = await enrolNode("uich-on");
    const off = await enrolNode("uich-off");
    await FakeAgent.open(on);
    const answer = (await (await ui.get("/admin/api/servers?sort=channel&dir=asc")).json()) as { pools: Array<{ name: string; servers: Array<{ serverId: string; cells: Record<string, string> }> }> };
    const rows = answer.pools.find((pool) => pool.name === "default")?.servers ?? [];
    expect(rows.find((row) => row.serverId === on.serverId)?.cells["channel"]).toBe("connected");
    expect(rows.find((row) => row.serverId === off.serverId)?.cells["channel"]).toBe("not connected");
    expect(rows.findIndex((row) => row.serverId === on.serverId)).toBeLessThan(rows.findIndex((row) => row.serverId === off.serverId));
    expect(await (await ui.get("/admin/servers")).text()).toContain(">Channel<");
  });

  it("disconnects one session from the Sessions page", async () => {
    const ui = await dashboardSession();
    const node = await enrolNode("uich-session");
    await beat(node, sampleBody({ sessions: [{ id: "uich-s1", user: "gina", state: "running", startedAt: 1_700_000_000_000 }], users: ["gina"] }));
    const agent = await FakeAgent.open(node);
    const page = await (await ui.get("/admin/sessions?user=gina")).text();
    expect(page).toContain('name="sessionId" value="uich-s1"');
    const done = await ui.post("/admin/sessions/disconnect", { pool: "default", serverId: node.serverId, sessionId: "uich-s1" });
    expect(done.status).toBe(303);
    expect(done.headers.get("Location")).toBe("/admin/sessions?notice=session-disconnected");
    expect((await agent.waitFor(isDisconnect)).params).toEqual({ target: { sessionId: "uich-s1" }, reason: "disconnected by an administrator" });
    expect(await (await ui.get("/admin/sessions?notice=session-disconnected")).text()).toContain("live connections were closed");
  });

  it("disconnects a user everywhere from the Sessions page and from the Users page", async () => {
    const ui = await dashboardSession();
    expect((await admin("/v1/admin/users", "POST", { login: "hank", password: "correct-horse-battery" })).status).toBe(201);
    const agent = await FakeAgent.open(await enrolNode("uich-user"));
    const fromSessions = await ui.post("/admin/sessions/disconnect", { user: "hank" });
    expect(fromSessions.headers.get("Location")).toBe("/admin/sessions?notice=user-disconnected");
    expect(await (await ui.get("/admin/users")).text()).toContain('action="/admin/users/hank/disconnect"');
    const fromUsers = await ui.post("/admin/users/hank/disconnect");
    expect(fromUsers.headers.get("Location")).toBe("/admin/users?notice=user-disconnected");
    expect(agent.received.filter(isDisconnect).map((message) => message.params.target)).toEqual([{ user: "hank" }, { user: "hank" }]);
  });

  it("says so when a server did not confirm", async () => {
    const ui = await dashboardSession();
    const agent = await FakeAgent.open(await enrolNode("uich-failing"));
    agent.answers["disconnect"] = { error: { code: "FAILED", message: "gateway down" } };
    const done = await ui.post("/admin/sessions/disconnect", { user: "ivan" });
    expect(done.headers.get("Location")).toBe("/admin/sessions?notice=user-disconnect-incomplete");
  });

  it("shows the error when the session's server has no channel", async () => {
    const ui = await dashboardSession();
    const node = await enrolNode("uich-offline");
    const refused = await ui.post("/admin/sessions/disconnect", { pool: "default", serverId: node.serverId, sessionId: "s-1" });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("has no control channel");
  });
});
