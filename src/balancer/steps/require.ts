/**
 * require: keep the servers whose static data satisfies every constraint (FastX static-data
 * filtering, e.g. `"gpu": true`). Constraints come from the request (`data.require`) and from the
 * step's params (`match`, e.g. a profile's fixed needs); both must hold.
 * A constraint `key: wanted` holds when `staticData[key] === wanted`, or when `staticData[key]` is
 * an array that includes `wanted`; a wanted array needs every element to hold. A missing key
 * never matches. With no constraints the step passes.
 */
import { z } from "zod";
import type { Step } from "../step.ts";
import type { ServerView } from "../types.ts";

const scalarSchema = z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]);
const wantedSchema = z.union([scalarSchema, z.array(scalarSchema).max(64)]);
const constraintsSchema = z.record(z.string().min(1).max(64), wantedSchema);

export const requireParamsSchema = z.strictObject({ match: constraintsSchema.optional() });
export type RequireParams = z.infer<typeof requireParamsSchema>;
type Constraints = z.infer<typeof constraintsSchema>;

export function createRequireStep(params: RequireParams): Step {
  const fixed = params.match ?? {};
  return (input) => {
    const requested = readRequested(input.data?.["require"]);
    const constraints = [fixed, requested].filter((set) => Object.keys(set).length > 0);
    if (constraints.length === 0) return null;
    return input.servers.filter((server) => constraints.every((set) => satisfies(server, set)));
  };
}

function readRequested(value: unknown): Constraints {
  if (value === undefined || value === null) return {};
  const parsed = constraintsSchema.safeParse(value);
  // Ignoring a malformed requirement would silently hand out a server without the GPU asked for.
  if (!parsed.success) throw new Error("data.require must map names to strings, numbers, booleans or lists of them");
  return parsed.data;
}

function satisfies(server: ServerView, constraints: Constraints): boolean {
  const facts = server.staticData ?? {};
  return Object.entries(constraints).every(([key, wanted]) => {
    if (!Object.hasOwn(facts, key)) return false;
    const actual = facts[key];
    const wants = Array.isArray(wanted) ? wanted : [wanted];
    return wants.every((value) => (Array.isArray(actual) ? actual.some((item) => item === value) : actual === value));
  });
}
