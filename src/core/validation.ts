/** zod at the HTTP boundary: every failure becomes a 400 in the error envelope. */
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { BrokerError } from "./errors.ts";

/** A short, readable summary of the first few issues: `field.path: message; …`. */
export function describeIssues(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}

export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new BrokerError("BAD_REQUEST", `invalid ${what}: ${describeIssues(result.error)}`);
  return result.data;
}

/** JSON bodies nested deeper than this are refused: recursive schemas (`z.json()`) would exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== "object") continue;
    if (depth >= maxDepth) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * `@hono/zod-validator` with the broker's error envelope. A `json` target also refuses a body
 * not declared as JSON (415; the validator alone would validate `{}` instead) and one nested
 * deeper than `MAX_JSON_DEPTH` (400).
 */
export function validate<Target extends keyof ValidationTargets, T extends z.ZodType>(target: Target, schema: T) {
  const validator = zValidator(target, schema, (result) => {
    if (!result.success) {
      throw new BrokerError("BAD_REQUEST", `invalid ${target}: ${describeIssues(result.error)}`);
    }
  });
  if (target !== "json") return validator;
  const guarded: typeof validator = async (c, next) => {
    const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!/^application\/([\w.-]+\+)?json$/.test(mediaType)) throw new BrokerError("UNSUPPORTED_MEDIA_TYPE", "the body must be application/json");
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new BrokerError("BAD_REQUEST", "the body is not valid JSON");
    }
    if (nestedDeeperThan(body, MAX_JSON_DEPTH)) throw new BrokerError("BAD_REQUEST", `the body is nested deeper than ${MAX_JSON_DEPTH} levels`);
    return validator(c, next);
  };
  return guarded;
}

/** Parses a body that must be JSON; answers 415 for another content type and 400 for bad JSON. */
export function parseJsonText(contentType: string | undefined, text: string): unknown {
  if (!contentType || !/^application\/json\b/i.test(contentType)) {
    throw new BrokerError("UNSUPPORTED_MEDIA_TYPE", "the body must be application/json");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BrokerError("BAD_REQUEST", "the body is not valid JSON");
  }
}
