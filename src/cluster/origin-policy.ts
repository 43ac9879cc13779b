/**
 * Which node origins a pool accepts (decision 6): the Worker calls a node's origin, and sends it
 * the Access service token and the user's identity, only when the origin passes these rules.
 * Pure.
 *
 * - The scheme is https or wss. The host is a DNS name matching one of the pool's patterns: an
 *   exact name (`node-1.example.com`) or `*.` followed by a suffix, where `*` stands for exactly
 *   one label (`*.nodes.example.com` matches `a.nodes.example.com`, not `a.b.nodes.example.com`).
 * - Loopback, private, link-local, shared-address and IP-literal hosts (and `localhost`) are
 *   refused, unless the pool allows private origins (local runs and tests do, and say so); such
 *   an origin may then also be plain http or ws, and needs no pattern.
 * - No user info in the URL (`https://user:pass@…`), no fragment.
 */
import { z } from "zod";
import { err, ok, type Result } from "../core/result.ts";

export const MAX_ORIGIN_PATTERNS = 64;

const label = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const patternRegex = new RegExp(`^(\\*\\.)?${label}(\\.${label})+$`);

/** One allow-list entry: `host.example.com` or `*.example.com` (lower case, at least two labels). */
export const originPatternSchema = z
  .string()
  .max(253)
  .transform((value) => value.toLowerCase())
  .refine((value) => patternRegex.test(value), "an origin pattern is a hostname or *.suffix, e.g. *.nodes.example.com");

export const originPatternsSchema = z.array(originPatternSchema).max(MAX_ORIGIN_PATTERNS);

export interface OriginRules {
  patterns: readonly string[];
  allowPrivate: boolean;
}

export type OriginRefusal = "not-a-url" | "bad-scheme" | "credentials-in-url" | "private-address" | "not-allowed";

/** What an admin or a node is told about a refused origin. */
export function originRefusalMessage(refusal: OriginRefusal): string {
  switch (refusal) {
    case "not-a-url":
      return "the origin is not an absolute URL";
    case "bad-scheme":
      return "the origin must be https or wss";
    case "credentials-in-url":
      return "the origin must not carry a user name, password or fragment";
    case "private-address":
      return "loopback, private, link-local and IP-literal origins are refused in this pool";
    case "not-allowed":
      return "the origin's host matches none of the pool's origin patterns";
  }
}

/** Checks `originUrl` against the pool's rules; the normalised URL (`URL.href`) when it passes. */
export function checkOrigin(originUrl: string, rules: OriginRules): Result<string, OriginRefusal> {
  if (!URL.canParse(originUrl)) return err("not-a-url");
  const url = new URL(originUrl);
  if (url.username || url.password || url.hash) return err("credentials-in-url");
  const host = url.hostname.toLowerCase();
  const secure = url.protocol === "https:" || url.protocol === "wss:";
  const plain = url.protocol === "http:" || url.protocol === "ws:";
  if (!secure && !plain) return err("bad-scheme");
  if (isPrivateHost(host)) {
    if (!rules.allowPrivate) return err("private-address");
    return ok(url.href);
  }
  if (!secure) return err("bad-scheme");
  return rules.patterns.some((pattern) => hostMatches(host, pattern)) ? ok(url.href) : err("not-allowed");
}

export function hostMatches(host: string, pattern: string): boolean {
  if (!pattern.startsWith("*.")) return host === pattern;
  const suffix = pattern.slice(1);
  if (!host.endsWith(suffix)) return false;
  const first = host.slice(0, -suffix.length);
  return first.length > 0 && !first.includes(".");
}

/** IP literals (any), `localhost` and `*.localhost`, and names that are really addresses. */
export function isPrivateHost(host: string): boolean {
  if (host.startsWith("[") || host.includes(":")) return true;
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  // WHATWG URL parsing turns every IPv4 form (decimal, hex, short) into dotted decimal.
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}
