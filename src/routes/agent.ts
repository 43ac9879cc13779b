/** Routes the node agent calls: enrolment (with a one-time token), signed heartbeats and re-keys, and its control channel. */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { bearerToken } from "../auth/admin.ts";
import type { z } from "zod";
import { acceptEnrolment, acceptRekey } from "../cluster/enrolment.ts";
import { openChannel } from "../cluster/node-commands.ts";
import { acceptHeartbeat } from "../cluster/nodes.ts";
import { sha256Base64Url } from "../core/crypto.ts";
import { BrokerError, unauthorized } from "../core/errors.ts";
import { clientAddressKey, ENROL_RULE, rateLimit } from "../core/rate-limit.ts";
import { parseJsonText, parseOrThrow, validate } from "../core/validation.ts";
import type { AppEnv } from "../env.ts";
import { enrolRequestSchema, heartbeatBodySchema, MAX_HEARTBEAT_BODY_BYTES, rekeyRequestSchema } from "../protocol.ts";
import { peekNodeToken } from "../tokens/node-token.ts";

const tooLarge = () => {
  throw new BrokerError("PAYLOAD_TOO_LARGE", `the body exceeds ${MAX_HEARTBEAT_BODY_BYTES} bytes`);
};

export const agentRoutes = new Hono<AppEnv>()
  .post("/enrol", rateLimit(ENROL_RULE, clientAddressKey), bodyLimit({ maxSize: MAX_HEARTBEAT_BODY_BYTES, onError: tooLarge }), validate("json", enrolRequestSchema), async (c) => {
    const enrolled = await acceptEnrolment(c.env, c.req.valid("json"), Date.now());
    return c.json(enrolled, 201);
  })
  .post("/heartbeat", bodyLimit({ maxSize: MAX_HEARTBEAT_BODY_BYTES, onError: tooLarge }), async (c) => {
    const { signed, body } = await readSignedBody(c, heartbeatBodySchema, "heartbeat");
    return c.json(await acceptHeartbeat(c.env, { ...signed, body }));
  })
  .post("/rekey", rateLimit(ENROL_RULE, clientAddressKey), bodyLimit({ maxSize: MAX_HEARTBEAT_BODY_BYTES, onError: tooLarge }), async (c) => {
    const { signed, body } = await readSignedBody(c, rekeyRequestSchema, "re-key request");
    return c.json(await acceptRekey(c.env, signed, body, Date.now()), 201);
  })
  .get("/channel", async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new BrokerError("UPGRADE_REQUIRED", "this endpoint takes a WebSocket upgrade", { headers: { Upgrade: "websocket" } });
    }
    const token = bearerToken(c.req.header("Authorization"));
    const routing = token ? peekNodeToken(token) : null;
    if (!routing) throw unauthorized();
    return openChannel(c.env, routing, c.req.raw);
  });

/**
 * A body a node signed (heartbeat, re-key): the bearer token's routing claims (verified later by
 * the pool object), the body hash the token must name, and the body checked against `schema`.
 */
async function readSignedBody<T extends z.ZodType>(c: Context<AppEnv>, schema: T, what: string) {
  const token = bearerToken(c.req.header("Authorization"));
  const routing = token ? peekNodeToken(token) : null;
  if (!token || !routing) throw unauthorized();
  const raw = new Uint8Array(await c.req.arrayBuffer());
  const body = parseOrThrow(schema, parseJsonText(c.req.header("Content-Type"), new TextDecoder().decode(raw)), what);
  return { signed: { pool: routing.pool, serverId: routing.serverId, token, bodyHash: await sha256Base64Url(raw) }, body };
}
