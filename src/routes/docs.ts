/**
 * `GET /openapi.json` (the OpenAPI 3.1 document, src/openapi/document.ts) and `GET /docs` (a
 * reference page rendering it, src/openapi/assets.ts). No auth: they describe the API and hold
 * no secret.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { DOCS_ASSETS, DOCS_CSP, DOCS_PATH, OPENAPI_PATH } from "../openapi/assets.ts";
import { openApiDocument } from "../openapi/document.ts";

/** The renderer changes only with a deploy; an hour keeps pages fast without going stale for long. */
const ASSET_CACHE = "public, max-age=3600";

function serveAsset(name: string) {
  const asset = DOCS_ASSETS.get(name);
  if (!asset) return null;
  return new Response(asset.body, {
    headers: {
      "Content-Type": asset.contentType,
      "Cache-Control": name === "" ? "no-cache" : ASSET_CACHE,
      "Content-Security-Policy": DOCS_CSP,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
    },
  });
}

export const docsRoutes = new Hono<AppEnv>()
  .get(OPENAPI_PATH, (c) =>
    c.json(openApiDocument(), 200, { "Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" }),
  )
  .get(DOCS_PATH, () => serveAsset("") as Response)
  .get(`${DOCS_PATH}/:file`, (c) => serveAsset(c.req.param("file")) ?? c.notFound());
