/**
 * The first middleware: what every handler may read from `c.var` about the request itself. The
 * log level from the environment, the request id (Cloudflare's ray id when there is one) and the client's address as Cloudflare's
 * edge saw it (`CF-Connecting-IP`; absent locally). The caller's identity joins later, set by the
 * auth middleware of the routes that need one.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { randomId } from "./crypto.ts";
import { configureLog } from "./log.ts";

/** Longer values are not addresses (IPv6 text is at most 45 chars). */
const MAX_ADDRESS_LENGTH = 64;

export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  configureLog(c.env.LOG_LEVEL);
  c.set("requestId", c.req.header("cf-ray") ?? randomId("req", 12));
  const address = c.req.header("CF-Connecting-IP");
  c.set("clientIp", address && address.length <= MAX_ADDRESS_LENGTH ? address : undefined);
  await next();
});

/** The client part of a placement request (`local` in the balancer's input). */
export function clientLocal(clientIp: string | undefined): { clientIp?: string } {
  return clientIp ? { clientIp } : {};
}
