/**
 * The reference page at `/docs`: Swagger UI (swagger-ui-dist, bundled into the Worker, so the
 * page needs no CDN and works on a private network) rendering `/openapi.json`. The page, its
 * start-up script and the renderer are served by src/routes/docs.ts under a strict CSP.
 */
import bundle from "swagger-ui-dist/swagger-ui-bundle.js?raw" with { type: "text" };
import css from "swagger-ui-dist/swagger-ui.css?raw" with { type: "text" };

export const DOCS_PATH = "/docs";
export const OPENAPI_PATH = "/openapi.json";

const INIT_SCRIPT = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_PATH)},
    dom_id: "#reference",
    deepLinking: true,
    validatorUrl: null,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayOperationId: true,
    persistAuthorization: false
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Edge session broker: API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
</head>
<body>
<noscript><p>This reference needs JavaScript. The document itself is at <a href="${OPENAPI_PATH}">${OPENAPI_PATH}</a>.</p></noscript>
<main id="reference"></main>
<script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_PATH}/init.js"></script>
</body>
</html>
`;

/** A file of the reference page: its body and media type. */
export interface DocsAsset {
  body: string;
  contentType: string;
}

/** The page and its files by path below `/docs` ("" is the page itself). */
export const DOCS_ASSETS: ReadonlyMap<string, DocsAsset> = new Map([
  ["", { body: PAGE, contentType: "text/html; charset=utf-8" }],
  ["swagger-ui-bundle.js", { body: bundle, contentType: "text/javascript; charset=utf-8" }],
  ["swagger-ui.css", { body: css, contentType: "text/css; charset=utf-8" }],
  ["init.js", { body: INIT_SCRIPT, contentType: "text/javascript; charset=utf-8" }],
]);

/**
 * Everything the page loads comes from this origin; `connect-src 'self'` keeps "try it out" on
 * the broker. Swagger UI sets inline styles, hence `'unsafe-inline'` for styles only.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");
