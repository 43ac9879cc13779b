/**
 * The closed set of built-in steps, by name (style rule 2; HAProxy `lb_ops`, Envoy
 * `TypedLoadBalancerFactory`): each name maps to a params schema and a factory. The runner never
 * switches on a step's name; adding a built-in is one file under `steps/` and one line here.
 */
import { z } from "zod";
import { err, ok, type Result } from "../core/result.ts";
import type { Step } from "./step.ts";
import { allowedUsersParamsSchema, createAllowedUsersStep } from "./steps/allowed-users.ts";
import { capacityParamsSchema, createCapacityStep } from "./steps/capacity.ts";
import { createFewestSessionsStep, fewestSessionsParamsSchema } from "./steps/fewest-sessions.ts";
import { createLeastLoadedStep, leastLoadedParamsSchema } from "./steps/least-loaded.ts";
import { createPowerOfTwoStep, powerOfTwoParamsSchema } from "./steps/power-of-two.ts";
import { createRandomStep, randomParamsSchema } from "./steps/random.ts";
import { createRequireStep, requireParamsSchema } from "./steps/require.ts";
import { createResumeStep, resumeParamsSchema } from "./steps/resume.ts";
import { createRoundRobinStep, roundRobinParamsSchema } from "./steps/round-robin.ts";
import { createSourceHashStep, sourceHashParamsSchema } from "./steps/source-hash.ts";
import { createUserHashStep, userHashParamsSchema } from "./steps/user-hash.ts";

export const BUILTIN_NAMES = [
  "resume",
  "require",
  "allowed-users",
  "capacity",
  "least-loaded",
  "fewest-sessions",
  "round-robin",
  "random",
  "power-of-two",
  "source-hash",
  "user-hash",
] as const;

export const builtinNameSchema = z.enum(BUILTIN_NAMES, {
  error: (issue) => `unknown built-in step ${JSON.stringify(issue.input)}; expected one of ${BUILTIN_NAMES.join(", ")}`,
});
export type BuiltinName = z.infer<typeof builtinNameSchema>;


export interface BuiltinDefinition {
  /** Validates `params` (an absent `params` is `{}`); exposed for the admin UI's JSON Schema. */
  paramsSchema: z.ZodType;
  /** Parses the params and builds the step, or returns why the params are invalid. */
  build(params: unknown): Result<Step, z.ZodError>;
}

function defineBuiltin<S extends z.ZodType>(paramsSchema: S, create: (params: z.output<S>) => Step): BuiltinDefinition {
  return {
    paramsSchema,
    build(params) {
      const parsed = paramsSchema.safeParse(params ?? {});
      return parsed.success ? ok(create(parsed.data)) : err(parsed.error);
    },
  };
}

export const BUILTINS: Record<BuiltinName, BuiltinDefinition> = {
  resume: defineBuiltin(resumeParamsSchema, createResumeStep),
  require: defineBuiltin(requireParamsSchema, createRequireStep),
  "allowed-users": defineBuiltin(allowedUsersParamsSchema, createAllowedUsersStep),
  capacity: defineBuiltin(capacityParamsSchema, createCapacityStep),
  "least-loaded": defineBuiltin(leastLoadedParamsSchema, createLeastLoadedStep),
  "fewest-sessions": defineBuiltin(fewestSessionsParamsSchema, createFewestSessionsStep),
  "round-robin": defineBuiltin(roundRobinParamsSchema, createRoundRobinStep),
  random: defineBuiltin(randomParamsSchema, createRandomStep),
  "power-of-two": defineBuiltin(powerOfTwoParamsSchema, createPowerOfTwoStep),
  "source-hash": defineBuiltin(sourceHashParamsSchema, createSourceHashStep),
  "user-hash": defineBuiltin(userHashParamsSchema, createUserHashStep),
};

