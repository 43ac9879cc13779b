/**
 * Builds the Worker's static assets into dist/static/ (wrangler.toml `[assets]`, served by
 * Workers Static Assets, not bundled into the Worker script):
 *   portal/assets/desktop.js   the desktop page's script with noVNC's RFB client (@novnc/novnc), minified ES module
 *   portal/assets/portal.js    the home page's script
 *   portal/assets/portal.css   the portal's stylesheet
 *   portal/assets/NOTICE-novnc.txt  noVNC's licences (MPL-2.0 and the vendored parts')
 *   docs/swagger-ui-bundle.js, docs/swagger-ui.css   Swagger UI for /docs (swagger-ui-dist)
 *   _headers                   nosniff and a no-framing, no-fetching CSP on every asset
 * Run by `npm run build:assets`, by wrangler (`[build]`) before `wrangler dev` and `wrangler
 * deploy`, and by vitest.config.ts before the workerd tests. Builds may overlap (test projects
 * start brokers side by side) and a running broker may be reading: each file is replaced by a
 * rename, and only when its content changed.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(import.meta.dirname, "..");
export const STATIC_DIR = join(ROOT, "dist", "static");
const BROWSER = join(ROOT, "src", "portal", "browser");
const require = createRequire(import.meta.url);

/** Assets are plain files: a CSP that lets them do nothing on their own if opened as a page. */
const HEADERS = `/*
  X-Content-Type-Options: nosniff
  Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
  Referrer-Policy: no-referrer
`;

/** A package's folder, from the file its main entry resolves to (`depth` folders below it). */
function packageDir(name: string, depth: number): string {
  let dir = dirname(require.resolve(name));
  for (let i = 0; i < depth; i++) dir = dirname(dir);
  return dir;
}

/** Writes `data` to `path` by renaming a temporary file over it, unless it already holds exactly that. */
function writeAtomic(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (existsSync(path) && readFileSync(path).equals(bytes)) return;
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
}

export async function buildAssets(outdir = STATIC_DIR): Promise<void> {
  const portal = join(outdir, "portal", "assets");
  const docs = join(outdir, "docs");
  const bundled = await build({
    entryPoints: { desktop: join(BROWSER, "desktop.ts"), portal: join(BROWSER, "home.ts") },
    outdir: portal,
    bundle: true,
    format: "esm",
    splitting: false,
    minify: true,
    target: "es2022",
    legalComments: "none",
    logLevel: "warning",
    write: false,
  });
  for (const file of bundled.outputFiles) writeAtomic(file.path, file.contents);
  writeAtomic(join(portal, "portal.css"), readFileSync(join(BROWSER, "portal.css")));
  const novnc = packageDir("@novnc/novnc", 1);
  const licences = ["LICENSE.MPL-2.0", "LICENSE.BSD-2-Clause", "LICENSE.BSD-3-Clause"].map((name) => `==== ${name} ====\n${readFileSync(join(novnc, "docs", name), "utf8")}`);
  const version = (JSON.parse(readFileSync(join(novnc, "package.json"), "utf8")) as { version: string }).version;
  writeAtomic(join(portal, "NOTICE-novnc.txt"), `noVNC ${version} (https://github.com/novnc/noVNC), bundled into desktop.js\n\n${licences.join("\n")}`);
  const swagger = packageDir("swagger-ui-dist", 0);
  for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) writeAtomic(join(docs, file), readFileSync(join(swagger, file)));
  writeAtomic(join(outdir, "_headers"), HEADERS);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildAssets();
