/**
 * Lets plain Node load `import text from "<file>?raw" with { type: "text" }` (src/core/runtime.ts
 * reads wrangler.toml that way; wrangler's esbuild and Vite understand it natively): such imports
 * become a module whose default export is the file's text. Import this before the modules that
 * need it, then import those dynamically.
 */
import { readFileSync } from "node:fs";
import { registerHooks } from "node:module";
import { fileURLToPath } from "node:url";

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (!specifier.endsWith("?raw")) return nextResolve(specifier, context);
    const resolved = nextResolve(specifier.slice(0, -"?raw".length), { ...context, importAttributes: {} });
    return { ...resolved, url: `${resolved.url}?raw`, importAttributes: {} };
  },
  load(url, context, nextLoad) {
    if (!url.endsWith("?raw")) return nextLoad(url, context);
    const text = readFileSync(fileURLToPath(url.slice(0, -"?raw".length)), "utf8");
    return { format: "module", source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  },
});
