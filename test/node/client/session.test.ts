/**
 * The helper's bearer tokens (client/session.ts) without a broker: an expired password sign-in is
 * refused with what to do, a fresh one is used as it is, and an OIDC sign-in runs its token
 * command (a real shell command here) when the cached token is about to expire.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { credentialStore } from "../../../client/credential-store.ts";
import { runCommand } from "../../../client/prompt.ts";
import { bearerFor, jwtExpiry, type SessionDeps } from "../../../client/session.ts";

const BROKER = "https://broker.example.com";
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function deps(nowMs: number): SessionDeps {
  const dir = mkdtempSync(join(tmpdir(), "edge-desktop-session-"));
  dirs.push(dir);
  return { store: credentialStore(dir), now: () => nowMs, runCommand, warn: () => undefined };
}

const jwt = (exp: number) => `${Buffer.from('{"alg":"RS256"}').toString("base64url")}.${Buffer.from(JSON.stringify({ exp })).toString("base64url")}.c2ln`;

describe("bearer tokens", () => {
  it("uses a fresh password sign-in as it is", async () => {
    const session = deps(1_500);
    await session.store.put(BROKER, { source: "password", login: "alice", token: "t1", obtainedAt: 1_000, expiresAt: 10_000 });
    expect(await bearerFor(BROKER, session)).toBe("t1");
  });

  it("says when a password sign-in expired, and how to sign in again", async () => {
    const session = deps(Date.UTC(2030, 0, 1));
    await session.store.put(BROKER, { source: "password", login: "alice", token: "t1", obtainedAt: 0, expiresAt: Date.UTC(2029, 0, 1) });
    await expect(bearerFor(BROKER, session)).rejects.toThrow(`your sign-in to ${BROKER} as alice expired at 2029-01-01T00:00:00.000Z: sign in again with  edge-desktop login --broker ${BROKER}`);
  });

  it("says so when there is no sign-in at all", async () => {
    await expect(bearerFor(BROKER, deps(0))).rejects.toThrow(`not signed in to ${BROKER}`);
  });

  it("runs the OIDC token command when the cached token is about to expire, and caches its answer", async () => {
    const nowMs = 1_000_000_000_000;
    const session = deps(nowMs);
    const fresh = jwt(nowMs / 1000 + 3600);
    await session.store.put(BROKER, { source: "oidc", command: `printf '%s\\n' ${fresh}`, token: jwt(nowMs / 1000 + 30), expiresAt: nowMs + 30_000 });
    expect(await bearerFor(BROKER, session)).toBe(fresh);
    expect(await session.store.get(BROKER)).toMatchObject({ token: fresh, expiresAt: nowMs + 3_600_000 });
  });

  it("refuses a token command that prints no JWT", async () => {
    const session = deps(0);
    await session.store.put(BROKER, { source: "oidc", command: "echo not-a-token" });
    await expect(bearerFor(BROKER, session)).rejects.toThrow("the token command printed no JWT");
  });

  it("reads a JWT's expiry without verifying it", () => {
    expect(jwtExpiry(jwt(1234))).toBe(1_234_000);
    expect(jwtExpiry("garbage")).toBeNull();
  });
});
