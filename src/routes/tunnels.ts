/**
 * Tunnels to a node's TCP service (src/tunnels/tunnels.ts): `POST /v1/tunnels` issues a service
 * ticket (user auth, rate-limited like session starts), `GET /v1/tunnels/:serverId` takes the
 * WebSocket it opens (ticket auth) and passes it through to the node's gateway.
 */
import { Hono } from "hono";
import { z } from "zod";
import { requireUser } from "../auth/user-auth.ts";
import { BrokerError } from "../core/errors.ts";
import { rateLimit, TICKET_RULE, userKey } from "../core/rate-limit.ts";
import { validate } from "../core/validation.ts";
import type { AppEnv } from "../env.ts";
import { profileIdSchema } from "../profiles/profile-schema.ts";
import { serverIdSchema } from "../protocol.ts";
import { openServiceRelay } from "../relay/service-relay.ts";
import { openTunnel } from "../tunnels/tunnels.ts";

export const tunnelBodySchema = z.strictObject({
  profileId: profileIdSchema,
  /** A serverId, a hostname, or the host an X2Go answer named. */
  server: z.string().regex(/^[A-Za-z0-9._-]{1,253}$/, "a server is named by its serverId, hostname or address"),
});
export const tunnelParamSchema = z.object({ serverId: serverIdSchema });

export const tunnelRoutes = new Hono<AppEnv>()
  .post("/", requireUser, rateLimit(TICKET_RULE, userKey), validate("json", tunnelBodySchema), async (c) => {
    const context = { clientIp: c.get("clientIp"), requestUrl: c.req.url };
    return c.json(await openTunnel(c.env, c.get("identity"), c.req.valid("json"), context), 201);
  })
  .get("/:serverId", validate("param", tunnelParamSchema), async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new BrokerError("UPGRADE_REQUIRED", "this endpoint takes a WebSocket upgrade", { headers: { Upgrade: "websocket" } });
    }
    const request = { serverId: c.req.valid("param").serverId, ticketParam: c.req.query("ticket"), headers: c.req.raw.headers, clientIp: c.get("clientIp") };
    return openServiceRelay(c.env, request, Date.now());
  });
