/**
 * The reference page at `/docs`: Swagger UI (swagger-ui-dist) rendering `/openapi.json`, so the
 * page needs no CDN and works on a private network. The page and its start-up script are served
 * by src/routes/docs.ts under a strict CSP; the renderer and its styles are static assets
 * (`/docs/swagger-ui-bundle.js`, `/docs/swagger-ui.css`, copied by scripts/build-assets.ts), not
 * part of the Worker script.
 */

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

/** The renderer's files, served as static assets below `/docs`. */
export const DOCS_STATIC_FILES = ["swagger-ui-bundle.js", "swagger-ui.css"] as const;

/** The page and the files the Worker serves below `/docs` ("" is the page itself). */
export const DOCS_ASSETS: ReadonlyMap<string, DocsAsset> = new Map([
  ["", { body: PAGE, contentType: "text/html; charset=utf-8" }],
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
