/**
 * `import text from "<file>?raw" with { type: "text" }`: the file's contents as a string. Wrangler's
 * esbuild reads the import attribute (and drops the `?raw` suffix); Vite, which runs the tests,
 * reads the suffix. Used for the reference page's renderer (src/openapi/assets.ts) and for
 * wrangler.toml (src/core/runtime.ts).
 */
declare module "*?raw" {
  const text: string;
  export default text;
}
