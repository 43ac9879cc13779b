#!/usr/bin/env node
// The `edge-desktop` command: the helper is TypeScript that Node runs directly (type stripping,
// Node 22.18 and later), so say so plainly on an older Node instead of failing on the syntax.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`edge-desktop needs Node.js 22.18 or later (this is ${process.versions.node})\n`);
  process.exit(1);
}
await import("./main.ts");
