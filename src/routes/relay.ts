/** `GET /v1/relay/:serverId`: a client WebSocket passed through to the node (ticket auth). */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import { serverIdSchema } from "../protocol.ts";
import { openRelay } from "../relay/relay.ts";
import { validate } from "../core/validation.ts";

export const relayParamSchema = z.object({ serverId: serverIdSchema });

export const relayRoutes = new Hono<AppEnv>().get("/:serverId", validate("param", relayParamSchema), async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new BrokerError("UPGRADE_REQUIRED", "this endpoint takes a WebSocket upgrade", { headers: { Upgrade: "websocket" } });
  }
  const request = { serverId: c.req.valid("param").serverId, ticketParam: c.req.query("ticket"), headers: c.req.raw.headers, clientIp: c.get("clientIp") };
  return openRelay(c.env, request, Date.now());
});
