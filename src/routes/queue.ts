/**
 * The caller's place in a wait line (`/v1/queue`, user auth): read it (long-poll with `wait`),
 * follow it as server-sent events, or leave. The domain is src/sessions/wait-line.ts.
 */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { requireUser } from "../auth/user-auth.ts";
import { BrokerError } from "../core/errors.ts";
import { validate } from "../core/validation.ts";
import type { AppEnv } from "../env.ts";
import { leaveQueue, queueIdSchema, queueStatus } from "../sessions/wait-line.ts";

/** Longest a long-poll holds its answer, and how often an event stream re-asks (below proxies' idle cut-offs). */
export const MAX_QUEUE_WAIT_SECONDS = 60;
const EVENT_WAIT_MS = 25_000;

export const queueParamSchema = z.object({ queueId: queueIdSchema });
export const queueQuerySchema = z.strictObject({
  wait: z.coerce.number().int().min(0).max(MAX_QUEUE_WAIT_SECONDS).default(0),
  position: z.coerce.number().int().min(0).max(1_000_000).optional(),
});

export const queueRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .get("/:queueId", validate("param", queueParamSchema), validate("query", queueQuerySchema), async (c) => {
    const { wait, position } = c.req.valid("query");
    const context = { clientIp: c.get("clientIp"), requestUrl: c.req.url };
    const answer = await queueStatus(c.env, c.get("identity"), c.req.valid("param").queueId, context, { waitMs: wait * 1000, ...(position === undefined ? {} : { knownPosition: position }) });
    return c.json(answer);
  })
  .get("/:queueId/events", validate("param", queueParamSchema), async (c) => {
    const { queueId } = c.req.valid("param");
    const identity = c.get("identity");
    const context = { clientIp: c.get("clientIp"), requestUrl: c.req.url };
    // The first read fails before the stream starts, so an unknown place is a plain 404.
    let answer = await queueStatus(c.env, identity, queueId, context, { waitMs: 0 });
    return streamSSE(c, async (stream) => {
      for (;;) {
        if (answer.state !== "queued") {
          await stream.writeSSE({ event: "placed", data: JSON.stringify(answer) });
          return;
        }
        await stream.writeSSE({ event: "position", data: JSON.stringify(answer) });
        const next = await queueStatus(c.env, identity, queueId, context, { waitMs: EVENT_WAIT_MS, knownPosition: answer.queued.position }).catch((error: unknown) => error);
        if (next instanceof BrokerError) {
          await stream.writeSSE({ event: "failed", data: JSON.stringify({ error: { code: next.code, message: next.message } }) });
          return;
        }
        if (next instanceof Error || stream.aborted) return;
        answer = next as typeof answer;
      }
    });
  })
  .delete("/:queueId", validate("param", queueParamSchema), async (c) => {
    await leaveQueue(c.env, c.get("identity"), c.req.valid("param").queueId);
    return c.body(null, 204);
  });
