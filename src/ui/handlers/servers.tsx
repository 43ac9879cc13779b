/** Servers: the live page, the JSON it polls, and approve / drain / undrain / remove behind a confirmation. */
import { Hono } from "hono";
import { z } from "zod";
import { approveNode, removeNode, setDraining } from "../../cluster/nodes.ts";
import { unwrapPool } from "../../pool/pool-failure.ts";
import { poolStub } from "../../pool/pool-gateway.ts";
import { poolNameSchema, serverIdSchema } from "../../protocol.ts";
import { validate } from "../../core/validation.ts";
import { noticeText } from "../components/forms.tsx";
import { ConfirmPage } from "../pages/message.tsx";
import { ServersPage } from "../pages/servers.tsx";
import { poolServers, serverPath, sortQuerySchema } from "../server-model.ts";
import { readForm, render, type UiEnv } from "../ui-env.ts";

const ACTIONS = {
  approve: { label: "Approve", notice: "approved", explain: "It was enrolled in a pool that requires approval; once approved the balancer may place sessions on it and its sessions are offered to their users." },
  drain: { label: "Drain", notice: "drained", explain: "It keeps its sessions, but the balancer places no new session on it." },
  undrain: { label: "Undrain", notice: "undrained", explain: "The balancer may place new sessions on it again." },
  remove: { label: "Remove", notice: "removed", explain: "Its key stops working at once; the agent must enrol again with a new token to come back." },
} as const;

const actionParam = z.object({ pool: poolNameSchema, serverId: serverIdSchema, action: z.enum(["approve", "drain", "undrain", "remove"]) });
const confirmForm = z.object({ confirmed: z.literal("yes").optional() });

export const serverUiRoutes = new Hono<UiEnv>()
  .get("/servers", validate("query", sortQuerySchema.extend({ notice: z.string().max(32).optional() })), async (c) => {
    const { notice, ...sort } = c.req.valid("query");
    const pools = await poolServers(c.env, sort);
    return render(c, <ServersPage session={c.get("ui")} pools={pools} sort={sort} notice={noticeText(notice)} />);
  })
  .get("/api/servers", validate("query", sortQuerySchema), async (c) => {
    const pools = await poolServers(c.env, c.req.valid("query"));
    return c.json({ updatedAt: Date.now(), pools });
  })
  .post("/servers/:pool/:serverId/:action", validate("param", actionParam), async (c) => {
    const { pool, serverId, action } = c.req.valid("param");
    const { confirmed } = await readForm(c, confirmForm);
    const spec = ACTIONS[action];
    if (confirmed !== "yes") {
      const server = unwrapPool(await poolStub(c.env, pool).getServer(serverId), serverId);
      return render(
        c,
        <ConfirmPage
          session={c.get("ui")}
          current="servers"
          title={`${spec.label} ${server.hostname}?`}
          message={`${spec.label} ${server.hostname} (${serverId}) in pool ${pool}. ${spec.explain}`}
          action={`${serverPath(pool, serverId)}/${action}`}
          confirmLabel={`${spec.label} ${server.hostname}`}
          cancelHref="/admin/servers"
          danger={action === "remove"}
        />,
      );
    }
    if (action === "remove") await removeNode(c.env, pool, serverId);
    else if (action === "approve") await approveNode(c.env, pool, serverId);
    else await setDraining(c.env, pool, serverId, action === "drain");
    return c.redirect(`/admin/servers?notice=${spec.notice}`, 303);
  });
