import { describe, expect, it } from "vitest";
import { MAX_SCRIPT_LENGTH, policySchema } from "../../../src/balancer/policy.ts";
import { DEFAULT_POLICY } from "../../../src/balancer/policy.ts";
import { BUILTIN_NAMES, BUILTINS } from "../../../src/balancer/registry.ts";

function issues(value: unknown): string[] {
  const result = policySchema.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

describe("policySchema", () => {
  it("accepts the default policy as written", () => {
    expect(policySchema.parse(DEFAULT_POLICY)).toEqual(DEFAULT_POLICY);
  });

  it("accepts built-ins with params and named scripts", () => {
    const policy = {
      steps: [
        { use: "resume" },
        { use: "capacity", params: { maxLoadPerCpu: 2, minMemAvailableBytes: 1_000_000_000 } },
        { use: "require", params: { match: { gpu: true, apps: ["matlab"] } } },
        { use: "allowed-users", params: { group: "lab" } },
        { script: "function (input) { return input.local.serverId }", name: "local-first" },
        { use: "least-loaded" },
      ],
    };
    expect(policySchema.parse(policy)).toEqual(policy);
  });

  it("every built-in accepts empty params", () => {
    for (const name of BUILTIN_NAMES) expect(BUILTINS[name].build(undefined).ok).toBe(true);
  });

  it.each([
    { name: "an unknown step name", value: { steps: [{ use: "fastest" }] }, expected: /steps\.0\.use: unknown built-in step "fastest"; expected one of resume, / },
    { name: "a bad param value", value: { steps: [{ use: "capacity", params: { maxLoadPerCpu: -1 } }] }, expected: /steps\.0\.params\.maxLoadPerCpu: capacity: / },
    { name: "an unknown param", value: { steps: [{ use: "least-loaded", params: { fast: true } }] }, expected: /steps\.0\.params: least-loaded: Unrecognized key: "fast"/ },
    { name: "both use and script", value: { steps: [{ use: "random", script: "f" }] }, expected: /exactly one of `use`/ },
    { name: "neither use nor script", value: { steps: [{}] }, expected: /exactly one of `use`/ },
    { name: "an empty script", value: { steps: [{ script: "   " }] }, expected: /steps\.0\.script: script must not be empty/ },
    { name: "a too long script", value: { steps: [{ script: "x".repeat(MAX_SCRIPT_LENGTH + 1) }] }, expected: /steps\.0\.script/ },
    { name: "params on a script", value: { steps: [{ script: "f", params: {} }] }, expected: /params are only for built-in steps/ },
    { name: "a name on a built-in", value: { steps: [{ use: "random", name: "r" }] }, expected: /name is only for script steps/ },
    { name: "an unknown step key", value: { steps: [{ use: "random", weight: 2 }] }, expected: /Unrecognized key: "weight"/ },
    { name: "no steps", value: { steps: [] }, expected: /a policy needs at least one step/ },
    { name: "17 steps", value: { steps: Array.from({ length: 17 }, () => ({ use: "random" })) }, expected: /at most 16 steps/ },
    { name: "a non-object", value: "least-loaded", expected: /expected object/ },
  ])("refuses $name with a clear message", ({ value, expected }) => {
    expect(issues(value).join("\n")).toMatch(expected);
  });
});
