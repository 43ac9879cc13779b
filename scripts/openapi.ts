/**
 * `npm run openapi`: writes the broker's OpenAPI 3.1 document to docs/openapi.json (the same
 * document the Worker serves at /openapi.json). `npm run openapi -- --check` writes nothing and
 * exits 1 when docs/openapi.json is not the current document.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import "./text-imports.ts";

const target = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "openapi.json");
const { buildOpenApiDocument } = await import("../src/openapi/document.ts");
const text = `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;

if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    // Missing counts as stale.
  }
  if (current !== text) {
    console.error("docs/openapi.json is stale: run `npm run openapi`");
    process.exit(1);
  }
  console.log("docs/openapi.json is current");
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target} (${text.length} bytes)`);
}
