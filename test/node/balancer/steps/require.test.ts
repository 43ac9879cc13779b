import { describe, expect, it } from "vitest";
import type { StaticData } from "../../../../src/protocol.ts";
import { createRequireStep, type RequireParams } from "../../../../src/balancer/steps/require.ts";
import { context, ids, input, server } from "../fixtures.ts";

const list = [
  server("srv_gpu", { staticData: { gpu: true, arch: "x86_64", apps: ["matlab", "blender"] } }),
  server("srv_cpu", { staticData: { gpu: false, arch: "x86_64", apps: ["matlab"] } }),
  server("srv_arm", { staticData: { arch: "arm64" } }),
];

describe("require", () => {
  it.each<{ name: string; params?: RequireParams; require?: unknown; expected: unknown }>([
    { name: "passes with nothing required", expected: null },
    { name: "passes with an empty requirement", require: {}, expected: null },
    { name: "keeps servers with an equal value", require: { gpu: true }, expected: ["srv_gpu"] },
    { name: "a missing key never matches", require: { gpu: false }, expected: ["srv_cpu"] },
    { name: "needs every key", require: { arch: "x86_64", gpu: false }, expected: ["srv_cpu"] },
    { name: "a static array matches a wanted scalar it includes", require: { apps: "matlab" }, expected: ["srv_gpu", "srv_cpu"] },
    { name: "a wanted array needs every element", require: { apps: ["matlab", "blender"] }, expected: ["srv_gpu"] },
    { name: "no match leaves an empty list", require: { arch: "riscv" }, expected: [] },
    { name: "profile constraints from params", params: { match: { arch: "x86_64" } }, expected: ["srv_gpu", "srv_cpu"] },
    {
      name: "params and request must both hold",
      params: { match: { arch: "x86_64" } },
      require: { apps: "blender" },
      expected: ["srv_gpu"],
    },
  ])("$name", ({ params, require, expected }) => {
    const step = createRequireStep(params ?? {});
    const data = require === undefined ? {} : { require };
    expect(ids(step(input(list, { data }), context()))).toEqual(expected);
  });

  it.each([{ value: "gpu" }, { value: ["gpu"] }, { value: { gpu: { nested: true } } }])(
    "refuses a malformed data.require ($value) instead of ignoring it",
    ({ value }) => {
      expect(() => createRequireStep({})(input(list, { data: { require: value } }), context())).toThrow(/data.require/);
    },
  );

  it("tolerates servers without static data", () => {
    const bare = server("srv_bare", { staticData: undefined as unknown as StaticData });
    expect(ids(createRequireStep({})(input([bare], { data: { require: { gpu: true } } }), context()))).toEqual([]);
  });
});
