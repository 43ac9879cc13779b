/** Builds the Hono app: request ids, route mounts, and the one error handler. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requestContext } from "./core/request-context.ts";
import type { AppEnv } from "./env.ts";
import { BrokerError, type ErrorCode, errorBody } from "./core/errors.ts";
import { adminRoutes } from "./routes/admin.ts";
import { adminUiRoutes } from "./routes/admin-ui.ts";
import { agentRoutes } from "./routes/agent.ts";
import { authRoutes } from "./routes/auth.ts";
import { configTransferRoutes } from "./routes/config-transfer.ts";
import { docsRoutes } from "./routes/docs.ts";
import { healthRoutes } from "./routes/health.ts";
import { poolRoutes } from "./routes/pools.ts";
import { portalRoutes } from "./portal/routes.tsx";
import { queueRoutes } from "./routes/queue.ts";
import { queueAdminRoutes } from "./routes/queue-admin.ts";
import { profileAdminRoutes } from "./routes/profiles-admin.ts";
import { relayRoutes } from "./routes/relay.ts";
import { serverRoutes } from "./routes/servers.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { tunnelRoutes } from "./routes/tunnels.ts";
import { userRoutes } from "./routes/users.ts";
import { x2goRoutes } from "./routes/x2go.ts";
import { log } from "./core/log.ts";

/** Policies with script steps are the largest bodies (16 steps of at most 32 KiB). */
const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/** Maps statuses raised by Hono itself (bad JSON, body limit, …) onto our closed code set. */
function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "FORBIDDEN";
    case 404:
      return "NOT_FOUND";
    case 405:
      return "METHOD_NOT_ALLOWED";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 415:
      return "UNSUPPORTED_MEDIA_TYPE";
    default:
      return status >= 500 ? "INTERNAL" : "BAD_REQUEST";
  }
}

export function createApp() {
  const app = new Hono<AppEnv>();

  app.use(requestContext);

  // Every body is bounded; agent routes set a tighter 64 KiB limit of their own.
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: MAX_REQUEST_BODY_BYTES,
      onError: () => {
        throw new BrokerError("PAYLOAD_TOO_LARGE", `the body exceeds ${MAX_REQUEST_BODY_BYTES} bytes`);
      },
    }),
  );

  app.route("/health", healthRoutes);
  app.route("/v1/agent", agentRoutes);
  app.route("/v1/auth", authRoutes);
  app.route("/admin", adminUiRoutes);
  app.route("/v1/admin", adminRoutes);
  app.route("/v1/admin", serverRoutes);
  app.route("/v1/admin", configTransferRoutes);
  app.route("/v1/admin", queueAdminRoutes);
  app.route("/v1/admin/users", userRoutes);
  app.route("/v1/admin/profiles", profileAdminRoutes);
  app.route("/v1/pools", poolRoutes);
  app.route("/v1/relay", relayRoutes);
  app.route("/v1/tunnels", tunnelRoutes);
  app.route("/v1/queue", queueRoutes);
  app.route("/v1", sessionRoutes);
  app.route("/", portalRoutes);
  app.route("/", docsRoutes);
  app.route("/", x2goRoutes);

  app.notFound((c) => c.json(errorBody("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`, c.get("requestId")), 404));

  app.onError((error, c) => {
    const requestId = c.get("requestId");
    if (error instanceof BrokerError) {
      // A full pool or an unreachable node answers 5xx but is no broker fault: a warning, not an error.
      if (error.code === "INTERNAL") log.error(`[${requestId}] ${error.code}: ${error.message}`, error.cause);
      else if (error.status >= 500) log.warn(`[${requestId}] ${error.code}: ${error.message}`);
      // Only the headers the error was given (Retry-After, …): getResponse() would add text/plain.
      const headers = error.res?.headers ?? new Headers();
      return c.json(errorBody(error.code, error.message, requestId), error.status, Object.fromEntries(headers));
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json(errorBody(codeForStatus(error.status), error.message || "bad request", requestId), error.status);
    }
    log.error(`[${requestId}] unhandled error`, error);
    return c.json(errorBody("INTERNAL", "internal error", requestId), 500);
  });

  return app;
}
