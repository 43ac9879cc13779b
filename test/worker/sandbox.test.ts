import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createScriptRunner, MAX_SOURCE_BYTES, ScriptError, validateScriptSource } from "../../src/sandbox/script-runner.ts";

const servers = [
  { serverId: "srv_cpu", hostname: "cpu-1", staticData: { gpu: false }, sessionCount: 1 },
  { serverId: "srv_gpu", hostname: "gpu-1", staticData: { gpu: true }, sessionCount: 3 },
];
const input = { action: "start", user: "alice", local: {}, servers, data: {} };
const PICK_GPU = "function (input) { return input.servers.find(s => s.staticData.gpu)?.serverId; }";

/** A loader that records the ids asked for and how often the code callback runs. */
function recordingLoader() {
  const ids: string[] = [];
  let builds = 0;
  const loader: WorkerLoader = {
    get: (id, getCode) => {
      if (id !== null) ids.push(id);
      return env.LOADER.get(id, () => (builds++, getCode()));
    },
    load: (code) => env.LOADER.load(code),
  };
  return { loader, ids, builds: () => builds };
}

async function failure(promise: Promise<unknown>): Promise<ScriptError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ScriptError);
    return error as ScriptError;
  }
  throw new Error("expected the script to fail");
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await run();
  return [value, performance.now() - started];
}

describe("script sandbox (Worker Loader)", () => {
  it("has a working LOADER binding in the vitest pool", () => {
    expect(Object.prototype.toString.call(env.LOADER)).toBe("[object WorkerLoader]");
  });

  it("picks a server by static data, and reuses the cached isolate for the same source", async () => {
    const { loader, ids, builds } = recordingLoader();
    const runScript = createScriptRunner(loader);
    const [first, firstMs] = await timed(() => runScript(PICK_GPU, input));
    const [second, secondMs] = await timed(() => runScript(PICK_GPU, input));
    const [third, thirdMs] = await timed(() => runScript(PICK_GPU, input));
    console.log(`sandbox latency: first call ${firstMs.toFixed(1)} ms, cached calls ${secondMs.toFixed(1)} ms, ${thirdMs.toFixed(1)} ms`);
    expect([first, second, third]).toEqual(["srv_gpu", "srv_gpu", "srv_gpu"]);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^policy:[0-9a-f]{64}$/);
    expect(builds()).toBe(1);

    // A different source, or different limits, gets a different isolate.
    await runScript("(input) => input.servers[0].serverId", input);
    await createScriptRunner(loader, { cpuMs: 20 })(PICK_GPU, input);
    expect(new Set(ids).size).toBe(3);
  });

  it("passes arrays of servers and async results through unvalidated", async () => {
    const runScript = createScriptRunner(env.LOADER);
    const sorted = await runScript("function (input) { return [...input.servers].sort((a, b) => b.sessionCount - a.sessionCount); }", input);
    expect((sorted as Array<{ serverId: string }>).map((s) => s.serverId)).toEqual(["srv_gpu", "srv_cpu"]);
    expect(await runScript("async (input) => { await null; return input.user; }", input)).toBe("alice");
    expect(await runScript("function (input) { return null; }", input)).toBeNull();
    expect(await runScript("function (input) {}", input)).toBeUndefined();
  });

  it("maps a throw to kind 'threw' with the script's own message only", async () => {
    const runScript = createScriptRunner(env.LOADER);
    const error = await failure(runScript("function (input) { throw new Error('no GPU server is free'); }", input));
    expect(error.kind).toBe("threw");
    expect(error.message).toBe("no GPU server is free");
    expect(error.message).not.toMatch(/policy\.js|\bat\b/);
    const typed = await failure(runScript("function (input) { return input.nope.deeper; }", input));
    expect(typed).toMatchObject({ kind: "threw", message: expect.stringMatching(/undefined/) });
    const odd = await failure(runScript("function () { throw { code: 7 }; }", input));
    expect(odd).toMatchObject({ kind: "threw", message: 'script threw a non-Error value: {"code":7}' });
  });

  it("stops while(true) and for(;;) without hanging workerd, and keeps working afterwards", async () => {
    const runScript = createScriptRunner(env.LOADER);
    for (const source of [
      "function (input) { while (true) {} }",
      "function (input) { for (;;) {} }",
      "function (input) { for (;;) { try { while (true); } catch (e) {} } }",
      "function (input) { try { while (true); } catch (e) { return 'swallowed'; } }",
      "function (input) { const a = Array(10000).fill(0); a.forEach(() => a.forEach(() => 0)); }",
    ]) {
      const [error, ms] = await timed(() => failure(runScript(source, input)));
      console.log(`sandbox: ${JSON.stringify(source)} stopped after ${ms.toFixed(0)} ms`);
      expect(error, source).toMatchObject({ kind: "timeout", message: "script exceeded its iteration budget" });
      expect(await runScript(PICK_GPU, input)).toBe("srv_gpu");
    }
  });

  it("refuses network access", async () => {
    const runScript = createScriptRunner(env.LOADER);
    const error = await failure(runScript("async function (input) { await fetch('https://example.com/'); return 'srv_cpu'; }", input));
    expect(error.kind).toBe("threw");
    expect(error.message).toMatch(/not permitted to access the internet/);
  });

  it("refuses syntax errors and non-function sources with kind 'syntax'", async () => {
    const runScript = createScriptRunner(env.LOADER);
    const broken = "function (input) {\n  return input.servers[0.serverId;\n}";
    expect(validateScriptSource(broken)).toMatchObject({ ok: false, line: 2, message: /^syntax error at line 2, column \d+/ });
    expect(await failure(runScript(broken, input))).toMatchObject({ kind: "syntax", message: /syntax error at line 2/ });
    for (const source of ["const pick = (input) => null", "class Policy {}", "'srv_gpu'", "import x from 'y'"]) {
      expect(validateScriptSource(source).ok, source).toBe(false);
      expect(await failure(runScript(source, input)), source).toMatchObject({ kind: "syntax", message: /single function expression/ });
    }
    expect(validateScriptSource(PICK_GPU)).toEqual({ ok: true });
    const huge = `function (input) { return ${JSON.stringify("x".repeat(MAX_SOURCE_BYTES))}; }`;
    expect(validateScriptSource(huge)).toMatchObject({ ok: false, message: /the limit is 65536/ });
    expect(await failure(runScript(huge, input))).toMatchObject({ kind: "syntax" });
  });

  it("times out a script that awaits forever", async () => {
    const runScript = createScriptRunner(env.LOADER, { timeoutMs: 300 });
    // The runtime itself may notice that nothing can settle this promise; either way: "timeout".
    const [never, neverMs] = await timed(() => failure(runScript("async function (input) { await new Promise(() => {}); }", input)));
    console.log(`sandbox: never-settling promise failed after ${neverMs.toFixed(0)} ms: ${never.message}`);
    expect(never.kind).toBe("timeout");
    // A pending timer keeps the isolate alive, so only the wall clock stops this one.
    const [slow, slowMs] = await timed(() => failure(runScript("async (input) => { await new Promise((r) => setTimeout(r, 5000)); return 'late'; }", input)));
    expect(slow).toMatchObject({ kind: "timeout", message: "script did not finish within 300 ms" });
    expect(slowMs).toBeGreaterThanOrEqual(290);
    expect(slowMs).toBeLessThan(2000);
    expect(await runScript(PICK_GPU, input)).toBe("srv_gpu");
  });

  it("reports bad input and untransferable results as kind 'failed'", async () => {
    const runScript = createScriptRunner(env.LOADER);
    expect(await failure(runScript(PICK_GPU, { n: 1n }))).toMatchObject({ kind: "failed", message: /not JSON/ });
    expect(await failure(runScript("function () { return Symbol('x'); }", input))).toMatchObject({ kind: "failed", message: /cannot be transferred/ });
  });

  it("validates runner options", () => {
    expect(() => createScriptRunner(env.LOADER, { timeoutMs: 0 })).toThrow(RangeError);
    expect(() => createScriptRunner(env.LOADER, { iterationBudget: 1.5 })).toThrow(RangeError);
  });
});
