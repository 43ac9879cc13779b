/**
 * The reference workerd for the relay bench: the last npm build of workerd whose network I/O
 * runs on KJ's own event loop (which pumps a passed-through socket with splice(), 64 KiB at a
 * time). From 1.20260918.1 on, the npm builds use the Rust/Tokio I/O backend, which pumps the
 * same connection 4 KiB per recvfrom/sendto; docs/decisions.md has the bisection. Serving the
 * same Worker on both shows how much of the relay's throughput is the runtime's pipe.
 *
 * `npm run bench:reference-workerd` fetches it (Linux x64 only) into .tmp/; the relay bench adds
 * its row when it is there.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REFERENCE_WORKERD_VERSION = "1.20260917.1";

const dir = join(import.meta.dirname, "..", "..", ".tmp", `workerd-${REFERENCE_WORKERD_VERSION}`);
const binary = join(dir, "package", "bin", "workerd");

/** The reference workerd binary, or null if `npm run bench:reference-workerd` has not run. */
export function referenceWorkerdPath(): string | null {
  return existsSync(binary) ? binary : null;
}

function fetchReferenceWorkerd(): void {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`the reference workerd is fetched for Linux x64 only, not ${process.platform} ${process.arch}`);
  }
  mkdirSync(dir, { recursive: true });
  const packageName = "@cloudflare/workerd-linux-64";
  execFileSync("npm", ["pack", `${packageName}@${REFERENCE_WORKERD_VERSION}`, "--pack-destination", dir], { stdio: ["ignore", "ignore", "inherit"] });
  const tarball = join(dir, `cloudflare-workerd-linux-64-${REFERENCE_WORKERD_VERSION}.tgz`);
  execFileSync("tar", ["-xzf", tarball, "-C", dir]);
  rmSync(tarball);
  console.log(`${binary}: ${execFileSync(binary, ["--version"], { encoding: "utf8" }).trim()}`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) fetchReferenceWorkerd();
