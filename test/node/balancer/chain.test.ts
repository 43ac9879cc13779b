import { describe, expect, it } from "vitest";
import { type ChainContext, runChain, type ScriptRunner } from "../../../src/balancer/chain.ts";
import type { Policy } from "../../../src/balancer/policy.ts";
import { DEFAULT_POLICY } from "../../../src/balancer/policy.ts";
import type { StepInput } from "../../../src/balancer/step.ts";
import { MAX_MESSAGE_BYTES } from "../../../src/core/clip.ts";
import { context, input, server, servers, session, user } from "./fixtures.ts";

/** A fake sandbox: each script's source is a key into this table of plain functions. */
function fakeRunner(scripts: Record<string, (input: StepInput) => unknown>): ScriptRunner {
  return async (source, stepInput) => {
    const script = scripts[source];
    if (script === undefined) throw new Error(`test bug: no script ${source}`);
    return script(stepInput);
  };
}

const scriptPolicy = (...sources: string[]): Policy => ({ steps: sources.map((script) => ({ script, name: script })) });
const list = [server("srv_a", { sessionCount: 2 }), server("srv_b", { sessionCount: 1 }), server("srv_c", { sessionCount: 3 })];

describe("runChain: FastX return values", () => {
  it("a string chooses and stops the chain", async () => {
    const run = fakeRunner({ pick: () => "srv_c", never: () => "srv_a" });
    const result = await runChain(scriptPolicy("pick", "never"), input(list), context(), run);
    expect(result).toEqual({
      ok: true,
      serverId: "srv_c",
      reason: "pick chose srv_c",
      trace: [{ step: "pick", outcome: "chose", serverId: "srv_c" }],
    });
  });

  it("an array becomes the next step's list, in its order", async () => {
    let seen: string[] = [];
    const run = fakeRunner({
      keep: (stepInput) => [...stepInput.servers].reverse().filter((entry) => entry.serverId !== "srv_b"),
      look: (stepInput) => {
        seen = stepInput.servers.map((entry) => entry.serverId);
        return seen[0];
      },
    });
    const result = await runChain(scriptPolicy("keep", "look"), input(list), context(), run);
    expect(seen).toEqual(["srv_c", "srv_a"]);
    expect(result).toMatchObject({ ok: true, serverId: "srv_c" });
    expect(result.trace[0]).toEqual({ step: "keep", outcome: "filtered", kept: ["srv_c", "srv_a"] });
  });

  it.each([{ value: null }, { value: undefined }, { value: false }, { value: 0 }, { value: "" }, { value: Number.NaN }])(
    "a falsy answer ($value) passes the same input on",
    async ({ value }) => {
      let received: StepInput | undefined;
      const original = input(list);
      const run = fakeRunner({
        pass: () => value,
        next: (stepInput) => {
          received = stepInput;
          return "srv_a";
        },
      });
      const result = await runChain(scriptPolicy("pass", "next"), original, context(), run);
      expect(result.ok).toBe(true);
      expect(result.trace[0]).toEqual({ step: "pass", outcome: "passed" });
      expect(received?.servers.map((entry) => entry.serverId)).toEqual(["srv_a", "srv_b", "srv_c"]);
      expect(received?.user).toBe(original.user);
    },
  );

  it("a thrown Error refuses the request with its message (POLICY_REJECTED)", async () => {
    const run = fakeRunner({
      gpu: () => {
        throw new Error("All GPU servers are in use");
      },
    });
    expect(await runChain(scriptPolicy("gpu"), input(list), context(), run)).toEqual({
      ok: false,
      code: "POLICY_REJECTED",
      message: "All GPU servers are in use",
      trace: [{ step: "gpu", outcome: "threw", message: "All GPU servers are in use" }],
    });
  });

  it.each([{ thrown: "a string" }, { thrown: { code: 7 } }, { thrown: new Error("") }])(
    "a throw without an Error message ($thrown) gets a generic message",
    async ({ thrown }) => {
      const run = fakeRunner({
        boom: () => {
          throw thrown;
        },
      });
      expect(await runChain(scriptPolicy("boom"), input(list), context(), run)).toMatchObject({
        ok: false,
        code: "POLICY_REJECTED",
        message: "the balancing policy refused the request",
      });
    },
  );

  it.each([{ kind: "syntax" }, { kind: "timeout" }, { kind: "failed" }])(
    "a sandbox error of kind $kind means a broken script (POLICY_INVALID_RESULT), not a refusal",
    async ({ kind }) => {
      const run = fakeRunner({
        loop: () => {
          throw Object.assign(new Error("script exceeded its iteration budget"), { kind });
        },
      });
      const result = await runChain(scriptPolicy("loop"), input(list), context(), run);
      expect(result).toEqual({
        ok: false,
        code: "POLICY_INVALID_RESULT",
        message: "step 1 (loop) failed: script exceeded its iteration budget",
        trace: [{ step: "loop", outcome: "invalid", message: "step 1 (loop) failed: script exceeded its iteration budget" }],
      });
    },
  );

  it("a sandbox error of kind threw is the script's refusal", async () => {
    const run = fakeRunner({
      no: () => {
        throw Object.assign(new Error("GPU quota used up"), { kind: "threw" });
      },
    });
    expect(await runChain(scriptPolicy("no"), input(list), context(), run)).toMatchObject({
      code: "POLICY_REJECTED",
      message: "GPU quota used up",
    });
  });

  it("a very long error message is cut", async () => {
    const run = fakeRunner({
      long: () => {
        throw new Error("x".repeat(5000));
      },
    });
    const result = await runChain(scriptPolicy("long"), input(list), context(), run);
    expect(result.ok ? "" : result.message.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES + 64);
  });

  it("a built-in that throws refuses the request too", async () => {
    const policy: Policy = { steps: [{ use: "require" }, { use: "least-loaded" }] };
    const result = await runChain(policy, input(list, { data: { require: "gpu" } }), context());
    expect(result).toMatchObject({ ok: false, code: "POLICY_REJECTED", message: expect.stringContaining("data.require") });
    expect(result.trace).toEqual([{ step: "require", outcome: "threw", message: expect.any(String) }]);
  });

  it("an empty list after a step means no server available, naming the step", async () => {
    const policy: Policy = { steps: [{ use: "require" }, { use: "least-loaded" }] };
    const result = await runChain(policy, input(list, { data: { require: { gpu: true } } }), context());
    expect(result).toEqual({
      ok: false,
      code: "NO_SERVER_AVAILABLE",
      message: 'no server available (none left after step 1 (require))',
      trace: [{ step: "require", outcome: "filtered", kept: [] }],
    });
  });

  it("a chain that ends without a choice fails with NO_SERVER_AVAILABLE", async () => {
    const policy: Policy = { steps: [{ use: "resume" }, { use: "capacity" }] };
    expect(await runChain(policy, input(list), context())).toEqual({
      ok: false,
      code: "NO_SERVER_AVAILABLE",
      message: "no server available",
      trace: [
        { step: "resume", outcome: "passed" },
        { step: "capacity", outcome: "filtered", kept: ["srv_a", "srv_b", "srv_c"] },
      ],
    });
  });
});

describe("runChain: input preparation", () => {
  it("all servers down: no server available before any step runs", async () => {
    const result = await runChain(DEFAULT_POLICY, input(servers(3, { status: "down" })), context());
    expect(result).toEqual({ ok: false, code: "NO_SERVER_AVAILABLE", message: "no server available", trace: [] });
  });

  it("a drained server holding the user's suspended session: resume picks it and reports the session", async () => {
    const pool = [server("srv_busy", { sessionCount: 10 }), server("srv_drain", { status: "draining", draining: true })];
    const returning = user({ sessions: [session("srv_drain", "suspended", 1, "s-7")] });
    const result = await runChain(DEFAULT_POLICY, input(pool, { user: returning }), context());
    expect(result).toMatchObject({ ok: true, serverId: "srv_drain", resumeSessionId: "s-7" });
    if (result.ok) expect(result.reason).toContain("suspended session s-7");
  });

  it("a user without a session on the drained server never gets it, though it is empty", async () => {
    const pool = [server("srv_busy", { sessionCount: 10 }), server("srv_drain", { status: "draining", draining: true })];
    for (let seed = 1; seed <= 20; seed++) {
      const result = await runChain(DEFAULT_POLICY, input(pool, { user: user({ login: `u${seed}` }) }), context(seed));
      expect(result).toMatchObject({ ok: true, serverId: "srv_busy" });
      expect(result.trace[0]?.step).toBe("resume");
    }
  });

  it("data.avoid removes servers for a retry (HAProxy srvtoavoid)", async () => {
    const policy: Policy = { steps: [{ use: "least-loaded" }] };
    expect(await runChain(policy, input(list, { data: { avoid: ["srv_b"] } }), context())).toMatchObject({ serverId: "srv_a" });
    expect(await runChain(policy, input(list, { data: { avoid: ["srv_a", "srv_b", "srv_c"] } }), context())).toMatchObject({
      ok: false,
      code: "NO_SERVER_AVAILABLE",
    });
    expect(await runChain(policy, input(list, { data: { avoid: "srv_b" } }), context())).toMatchObject({ serverId: "srv_b" });
  });
});

describe("runChain: the default policy", () => {
  const farm = [
    server("srv_gpu_full", { sessionCount: 2, staticData: { gpu: true, maxSessions: 2 } }),
    server("srv_gpu_busy", { sessionCount: 5, staticData: { gpu: true } }),
    server("srv_cpu_idle", { sessionCount: 0 }),
    server("srv_lab_only", { sessionCount: 0, staticData: { gpu: true, users: ["bob"] } }),
  ];

  it.each([
    { name: "least-loaded among all allowed servers", data: {}, login: "alice", expected: "srv_cpu_idle" },
    { name: "require narrows to GPU servers; capacity drops the full one", data: { require: { gpu: true } }, login: "alice", expected: "srv_gpu_busy" },
    { name: "a listed user may use the restricted GPU server", data: { require: { gpu: true } }, login: "bob", expected: "srv_lab_only" },
  ])("$name", async ({ data, login, expected }) => {
    const result = await runChain(DEFAULT_POLICY, input(farm, { data, user: user({ login }) }), context());
    expect(result).toMatchObject({ ok: true, serverId: expected });
  });
});

describe("runChain: invalid results", () => {
  it("a chosen id that is not in the step's list is POLICY_INVALID_RESULT naming the step", async () => {
    const pool = [...list, server("srv_down", { status: "down" })];
    const run = fakeRunner({ sneaky: () => "srv_down" });
    const result = await runChain(scriptPolicy("sneaky"), input(pool), context(), run);
    expect(result).toMatchObject({
      ok: false,
      code: "POLICY_INVALID_RESULT",
      message: 'step 1 (sneaky) chose "srv_down", which is not in its input list',
    });
    expect(result.trace).toEqual([{ step: "sneaky", outcome: "invalid", message: expect.any(String) }]);
  });

  it("an id filtered out by an earlier step is not in the later step's list", async () => {
    const run = fakeRunner({ only_a: (stepInput) => stepInput.servers.slice(0, 1), pick_b: () => "srv_b" });
    expect(await runChain(scriptPolicy("only_a", "pick_b"), input(list), context(), run)).toMatchObject({
      code: "POLICY_INVALID_RESULT",
      message: expect.stringContaining("step 2 (pick_b)"),
    });
  });

  it("an array with servers that were not in the list is invalid", async () => {
    const run = fakeRunner({ extra: () => [{ serverId: "srv_a" }, { serverId: "srv_zz" }] });
    expect(await runChain(scriptPolicy("extra"), input(list), context(), run)).toMatchObject({
      ok: false,
      code: "POLICY_INVALID_RESULT",
      message: 'step 1 (extra) returned servers that are not in its input list: "srv_zz"',
    });
  });

  it.each([
    { name: "a number", value: 42 },
    { name: "true", value: true },
    { name: "a plain object", value: { serverId: "srv_a" } },
    { name: "an array of ids", value: ["srv_a"] },
    { name: "an array with an object lacking serverId", value: [{ id: "srv_a" }] },
    { name: "an array with a numeric serverId", value: [{ serverId: 1 }] },
    { name: "an array with null", value: [null] },
    { name: "a function", value: () => "srv_a" },
    { name: "a symbol", value: Symbol("srv_a") },
  ])("a script returning $name is junk (POLICY_INVALID_RESULT)", async ({ value }) => {
    const result = await runChain(scriptPolicy("junk"), input(list), context(), fakeRunner({ junk: () => value }));
    expect(result).toMatchObject({ ok: false, code: "POLICY_INVALID_RESULT", message: expect.stringMatching(/^script returned junk: .+\(step 1 \(junk\)\)$/) });
  });

  it("a script step without a runner is POLICY_INVALID_RESULT", async () => {
    expect(await runChain(scriptPolicy("lonely"), input(list), context())).toMatchObject({
      ok: false,
      code: "POLICY_INVALID_RESULT",
      message: "step 1 (lonely) is a script, but no script runner is configured",
    });
  });

  it("a built-in with params that bypassed policySchema is POLICY_INVALID_RESULT", async () => {
    const policy: Policy = { steps: [{ use: "capacity", params: { maxLoadPerCpu: "high" } }] };
    expect(await runChain(policy, input(list), context())).toMatchObject({
      code: "POLICY_INVALID_RESULT",
      message: expect.stringContaining("step 1 (capacity) has invalid params"),
    });
  });
});

describe("runChain: results", () => {
  it("a script's server array is mapped back to the broker's own server data, without duplicates", async () => {
    const policy: Policy = { steps: [{ script: "thin" }, { use: "least-loaded" }] };
    const run = fakeRunner({ thin: () => [{ serverId: "srv_c" }, { serverId: "srv_a" }, { serverId: "srv_c" }] });
    const result = await runChain(policy, input(list), context(), run);
    expect(result).toMatchObject({ ok: true, serverId: "srv_a", reason: "least-loaded chose srv_a (score 0.00000996, 2 sessions)" });
    expect(result.trace[0]).toEqual({ step: "script #1", outcome: "filtered", kept: ["srv_c", "srv_a"] });
  });

  it("reports the running session when the chosen server holds no suspended one", async () => {
    const sessions = [session("srv_b", "running", 5, "run-1"), session("srv_a", "suspended", 9, "other")];
    const policy: Policy = { steps: [{ script: "b" }] };
    const result = await runChain(policy, input(list, { user: user({ sessions }) }), context(), fakeRunner({ b: () => "srv_b" }));
    expect(result).toMatchObject({ ok: true, serverId: "srv_b", resumeSessionId: "run-1" });
  });

  it("has no resumeSessionId for a fresh placement and no durationMs without a clock", async () => {
    const result = await runChain(DEFAULT_POLICY, input(list), context());
    expect(result.ok && "resumeSessionId" in result).toBe(false);
    expect(result.trace.every((entry) => entry.durationMs === undefined)).toBe(true);
    expect(result.trace.map((entry) => entry.outcome)).toEqual(["passed", "passed", "passed", "filtered", "chose"]);
  });

  it("times each step when given a clock", async () => {
    let now = 100;
    const ctx: ChainContext = { ...context(), clock: () => (now += 0.5) };
    const result = await runChain(DEFAULT_POLICY, input(list), ctx);
    expect(result.trace.map((entry) => entry.durationMs)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  it("hands scripts the request's action, user and data along with the current list", async () => {
    let received: StepInput | undefined;
    const original = input(list, { action: "user/login", data: { profile: "cad" }, local: { clientIp: "192.0.2.4" } });
    const run = fakeRunner({
      spy: (stepInput) => {
        received = stepInput;
        return "srv_a";
      },
    });
    await runChain(scriptPolicy("spy"), original, context(), run);
    expect(received).toMatchObject({ action: "user/login", data: { profile: "cad" }, local: { clientIp: "192.0.2.4" } });
  });
});
