/**
 * What a refused answer must never contain: key material (the admin token, the signing key,
 * nodes' private keys), other callers' tokens, anything stored (password and token hashes,
 * public keys, server and session ids) unless the request itself carried it, and stack traces.
 */
import { env } from "cloudflare:workers";
import { exportJWK } from "jose";
import { expect } from "vitest";
import { ADMIN_TOKEN } from "../helpers.ts";
import type { Fixture } from "./fixture.ts";
import { type StateSnapshot, storedStrings } from "./snapshot.ts";

/**
 * Key material, the fixture's tokens, and what is stored: every stored string (`stored: "all"`,
 * for refusals, which show nothing), or only the stored hashes (`"hashes"`, for answers that may
 * rightly show stored data such as a profile listing).
 */
export async function secretsOf(fx: Fixture, snapshot: StateSnapshot, stored: "all" | "hashes" = "all"): Promise<Set<string>> {
  const privateKeys = await Promise.all([fx.nodeA, fx.nodeB].map(async (node) => (await exportJWK(node.privateKey)).d ?? ""));
  const tokens = [fx.alice, fx.bob, fx.root, fx.enrolmentToken, fx.ui.cookie, fx.ui.csrf, fx.portal.cookie, fx.portal.csrf];
  const kept = stored === "all" ? storedStrings(snapshot) : storedHashes(snapshot);
  return new Set([ADMIN_TOKEN, env.SIGNING_KEY ?? "", ...privateKeys, ...tokens, ...kept].filter((secret) => secret.length >= 8));
}

function storedHashes(snapshot: StateSnapshot): string[] {
  return Object.values(snapshot.d1).flatMap((rows) =>
    rows.flatMap((row) => Object.entries(row).flatMap(([column, value]) => (column.includes("hash") && typeof value === "string" ? [value] : []))),
  );
}

const STACK_TRACE = /\bat [\w.<>$]+ \(|\bat (file|https?):\/\/|\.(ts|js|tsx):\d+:\d+|\b(TypeError|RangeError|ReferenceError|SyntaxError)\b/;

/**
 * Fails if the answer (body and headers) shows a secret the request did not carry itself, or a
 * stack trace. `request` is everything the caller sent (URL, headers, body) as text.
 */
export function expectNoLeak(answer: { text: string; headers: Headers }, request: string, secrets: Set<string>, what: string): void {
  const shown = `${answer.text}\n${[...answer.headers.entries()].map(([name, value]) => `${name}: ${value}`).join("\n")}`;
  const leaked = [...secrets].filter((secret) => shown.includes(secret) && !request.includes(secret));
  expect(leaked.map((secret) => `${secret.slice(0, 12)}…`), `secrets in the answer to ${what}`).toEqual([]);
  expect(STACK_TRACE.test(shown), `a stack trace in the answer to ${what}: ${shown.slice(0, 300)}`).toBe(false);
  expect(answer.headers.get("Set-Cookie") ?? "", `a cookie set by the answer to ${what}`).not.toMatch(/=eyJ/);
}
