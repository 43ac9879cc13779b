/**
 * A pool's balancing policy as an admin writes it (JSON, validated here at the trust boundary):
 * an ordered chain of at most 16 steps, each either a built-in by name with its params, or an
 * admin-written JavaScript function (FastX "custom script", run in the sandbox by the caller).
 *   { "steps": [ { "use": "resume" }, { "use": "capacity", "params": { "maxLoadPerCpu": 2 } },
 *                { "script": "function (input) { … }", "name": "gpu-first" }, { "use": "least-loaded" } ] }
 * Unknown step names, unknown keys and invalid params are refused with messages naming them.
 */
import { z } from "zod";
import { BUILTINS, type BuiltinName, builtinNameSchema } from "./registry.ts";

export const MAX_POLICY_STEPS = 16;
/** Characters of JavaScript per script step; policies live in D1 rows and decision logs. */
export const MAX_SCRIPT_LENGTH = 32_768;

export interface BuiltinStepSpec {
  use: BuiltinName;
  params?: Record<string, unknown>;
}

export interface ScriptStepSpec {
  script: string;
  /** Shown in traces and error messages; defaults to `script #<position>`. */
  name?: string;
}

export type StepSpec = BuiltinStepSpec | ScriptStepSpec;

export const stepSpecSchema = z
  .strictObject({
    use: builtinNameSchema.optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    script: z
      .string()
      .max(MAX_SCRIPT_LENGTH)
      .refine((source) => source.trim() !== "", "script must not be empty")
      .optional(),
    name: z.string().min(1).max(64).optional(),
  })
  .superRefine((spec, ctx) => {
    if ((spec.use === undefined) === (spec.script === undefined)) {
      ctx.addIssue({ code: "custom", message: "a step has exactly one of `use` (a built-in) or `script` (JavaScript)" });
      return;
    }
    if (spec.script !== undefined && spec.params !== undefined) {
      ctx.addIssue({ code: "custom", path: ["params"], message: "params are only for built-in steps" });
    }
    if (spec.use !== undefined && spec.name !== undefined) {
      ctx.addIssue({ code: "custom", path: ["name"], message: "name is only for script steps; a built-in is named by `use`" });
    }
    if (spec.use === undefined) return;
    const built = BUILTINS[spec.use].build(spec.params);
    if (built.ok) return;
    for (const issue of built.error.issues) {
      ctx.addIssue({ code: "custom", path: ["params", ...issue.path], message: `${spec.use}: ${issue.message}` });
    }
  })
  .transform((spec): StepSpec => {
    if (spec.use !== undefined) return spec.params === undefined ? { use: spec.use } : { use: spec.use, params: spec.params };
    const script = spec.script ?? "";
    return spec.name === undefined ? { script } : { script, name: spec.name };
  });

export const policySchema = z.strictObject({
  steps: z
    .array(stepSpecSchema)
    .min(1, "a policy needs at least one step")
    .max(MAX_POLICY_STEPS, `a policy has at most ${MAX_POLICY_STEPS} steps`),
});

/** A validated policy. Store the admin's JSON (`z.input`) and parse it again when loading. */
export type Policy = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/** What a pool uses when its admin set no policy: reconnect, honour constraints, then balance. */
export const DEFAULT_POLICY: Policy = {
  steps: [{ use: "resume" }, { use: "require" }, { use: "allowed-users" }, { use: "capacity" }, { use: "least-loaded" }],
};
