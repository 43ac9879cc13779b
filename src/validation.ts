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

/** `@hono/zod-validator` with the broker's error envelope. */
export function validate<Target extends keyof ValidationTargets, T extends z.ZodType>(target: Target, schema: T) {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      throw new BrokerError("BAD_REQUEST", `invalid ${target}: ${describeIssues(result.error)}`);
    }
  });
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
