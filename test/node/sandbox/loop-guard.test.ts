import { parse } from "acorn";
import { describe, expect, it } from "vitest";
import { instrumentScript, ITERATION_BUDGET_MESSAGE } from "../../../src/sandbox/loop-guard.ts";

function instrument(source: string): string {
  const result = instrumentScript(source);
  if (!result.ok) throw new Error(`refused: ${result.message}`);
  // The instrumented code must still be a valid strict-mode expression, as the sandbox embeds it.
  parse(`(\n${result.code}\n)`, { ecmaVersion: "latest", sourceType: "module" });
  return result.code;
}

function refusal(source: string): { message: string; line?: number; column?: number } {
  const result = instrumentScript(source);
  if (result.ok) throw new Error(`accepted: ${result.code}`);
  return result;
}

/** Runs instrumented code in Node (eval is fine here) with a counting `__tick`, as the sandbox does. */
function run(source: string, input: unknown = {}, budget = 1_000_000): { result: unknown; ticks: number } {
  let ticks = 0;
  const tick = () => {
    if (++ticks > budget) throw new Error(ITERATION_BUDGET_MESSAGE);
  };
  const policy = new Function("__tick", `"use strict"; return (\n${instrument(source)}\n);`)(tick) as (input: unknown) => unknown;
  return { result: policy(input), ticks };
}

describe("instrumentation of loop bodies", () => {
  it("ticks at the start of every loop kind and function body", () => {
    const cases: Array<[string, string, number]> = [
      ["function (input) { let n = 0; for (let i = 0; i < 3; i++) { n++; } return n; }", "for (let i = 0; i < 3; i++) {__tick(); n++; }", 3],
      ["function (input) { let n = 0; for (const k in input) { n++; } return n; }", "for (const k in input) {__tick(); n++; }", 2],
      ["function (input) { let n = 0; for (const v of [1, 2, 3]) { n += v; } return n; }", "for (const v of [1, 2, 3]) {__tick(); n += v; }", 6],
      ["function (input) { let n = 0; while (n < 4) { n++; } return n; }", "while (n < 4) {__tick(); n++; }", 4],
      ["function (input) { let n = 0; do { n++; } while (n < 5); return n; }", "do {__tick(); n++; } while (n < 5)", 5],
    ];
    for (const [source, expected, result] of cases) {
      expect(instrument(source)).toContain(expected);
      expect(instrument(source).startsWith("function (input) {__tick();")).toBe(true);
      const outcome = run(source, { a: 1, b: 2 });
      expect(outcome.result).toBe(result);
      // One tick per iteration, plus one for the call itself.
      expect(outcome.ticks).toBe(result === 6 ? 4 : result + 1);
    }
  });

  it("instruments for await in async functions", () => {
    expect(instrument("async (input) => { for await (const x of input) {} }")).toBe("async (input) => {__tick(); for await (const x of input) {__tick();} }");
  });

  it("counts nested loops", () => {
    const source = "function (input) { let n = 0; for (let i = 0; i < 10; i++) for (let j = 0; j < 20; j++) { while (false) {} n++; } return n; }";
    expect(instrument(source)).toContain("for (let i = 0; i < 10; i++) {__tick();for (let j = 0; j < 20; j++) {__tick(); while (false) {__tick();} n++; }}");
    expect(run(source)).toEqual({ result: 200, ticks: 1 + 10 + 200 });
  });

  it("wraps non-block bodies, with and without semicolons", () => {
    expect(instrument("function () { for (;;); }")).toBe("function () {__tick(); for (;;){__tick();;} }");
    expect(instrument("function (i) { while (i < 3) i++\n return i }")).toBe("function (i) {__tick(); while (i < 3) {__tick();i++}\n return i }");
    expect(instrument("function (i) { do i++; while (i < 3) }")).toBe("function (i) {__tick(); do {__tick();i++;} while (i < 3) }");
    expect(instrument("function (o) { for (const k in o) for (const v of o[k]) if (v) return v }")).toBe(
      "function (o) {__tick(); for (const k in o) {__tick();for (const v of o[k]) {__tick();if (v) return v}} }",
    );
    expect(run("function (i) { while (i < 3) i++\n return i }", 0)).toEqual({ result: 3, ticks: 4 });
  });

  it("keeps labels working across wrapped bodies", () => {
    const source = "function () { let n = 0; outer: for (let i = 0; i < 3; i++) inner: for (let j = 0; j < 3; j++) { if (j === 1) continue outer; n++; } return n; }";
    expect(run(source).result).toBe(3);
  });

  it("ticks in arrow expression bodies, closing nested ones in order", () => {
    expect(instrument("x => y => z")).toBe("x => (__tick(), y => (__tick(), z))");
    expect(instrument("(input) => ({ a: 1 })")).toBe("(input) => (__tick(), ({ a: 1 }))");
    expect(instrument("function (a) { while (a--) f = () => a\n}")).toBe("function (a) {__tick(); while (a--) {__tick();f = () => (__tick(), a)}\n}");
    const source = "(input) => input.servers.filter((s) => s.up).map((s) => s.serverId)";
    expect(run(source, { servers: [{ serverId: "a", up: true }, { serverId: "b", up: false }] })).toEqual({ result: ["a"], ticks: 1 + 2 + 1 });
  });

  it("changes nothing but the insertions, and keeps a trailing line comment harmless", () => {
    const source = "function (input) {\n  // pick the first\n  for (const s of input.servers) { return s.serverId; }\n}";
    expect(instrument(source).replaceAll("__tick();", "")).toBe(source);
    expect(instrument("x => 1 // trailing")).toBe("x => (__tick(), 1) // trailing");
  });

  it("stops infinite loops, even when the script catches the budget error", () => {
    const budget = 10_000;
    for (const source of [
      "function () { while (true) {} }",
      "function () { for (;;); }",
      "function () { do ; while (1) }",
      "function () { for (;;) { try { for (;;) {} } catch (e) {} } }",
      "function () { const a = Array(1000).fill(0); a.forEach(() => a.forEach(() => a.forEach(() => 0))); }",
    ]) {
      expect(() => run(source, {}, budget), source).toThrow(ITERATION_BUDGET_MESSAGE);
    }
  });
});

describe("refusals", () => {
  it("accepts function expressions, named, async and parenthesized, and arrows", () => {
    for (const source of ["function (input) { return null; }", "function pick(input) {}", "async function (input) {}", "(input) => null", "async input => null", "((x) => x)", "/* c */ function () {}"]) {
      expect(instrumentScript(source).ok, source).toBe(true);
    }
  });

  it("refuses anything that is not exactly one function expression", () => {
    const cases: Array<[string, RegExp]> = [
      ["", /empty/],
      ["   \n ", /empty/],
      ["const f = (input) => null", /single function expression.*found a variable declaration/],
      ["function f() {} f", /single function expression.*found 2 statements/],
      ["1, 2", /found several expressions/],
      ["(x) => x, (y) => y", /found several expressions/],
      ["class Policy {}", /found a class/],
      ["import x from 'y'", /found an import declaration/],
      ["export default (x) => x", /found an export declaration/],
      ["pick(input)", /found an expression \(CallExpression\)/],
      ["'use strict'", /found an expression \(Literal\)/],
      ["function* (input) { yield 1 }", /generator/],
      ["function (input) { return null };", /trailing semicolon/],
      // Attempts to break out of the wrapping parentheses produce compound expressions.
      ["x => x) + (y => y", /found an expression \(BinaryExpression\)/],
      ["x => x); (1", /single function expression/],
    ];
    for (const [source, message] of cases) expect(refusal(source).message, source).toMatch(message);
  });

  it("refuses import() and import.meta with their position", () => {
    expect(refusal("function () {\n  return import('node:fs')\n}")).toMatchObject({ message: /import\(\) is not allowed.*line 2, column 10/, line: 2, column: 10 });
    expect(refusal("() => import.meta.url")).toMatchObject({ message: /import\.meta is not allowed/, line: 1, column: 7 });
  });

  it("refuses any mention of __tick, also spelled with escapes", () => {
    for (const source of [
      "function () { __tick = () => {} }",
      "function () { let __tickCount = 0 }",
      "function () { return '__tick' }",
      "function (__tick) {}",
    ]) {
      expect(refusal(source).message, source).toMatch(/__tick is reserved/);
    }
    expect(refusal("function () { var \\u005f_tick = 1 }")).toMatchObject({ message: /__tick is reserved.*line 1, column 19/, line: 1, column: 19 });
    expect(refusal("function () { \\u{5f}\\u{5f}tickCount = 0 }").message).toMatch(/__tick is reserved/);
  });

  it("reports syntax errors at line:column of the admin's source", () => {
    expect(refusal("function (input) {\n  return input.\n}")).toEqual({ ok: false, message: "syntax error at line 3, column 1: Unexpected token", line: 3, column: 1 });
    expect(refusal("function (input) { return 1 +* 2 }")).toMatchObject({ line: 1, column: 30, message: /^syntax error at line 1, column 30: Unexpected token$/ });
    expect(refusal("function (input) {\r\n  let x = 1\r\n  let x = 2\r\n}")).toMatchObject({ line: 3, column: 7, message: /Identifier 'x' has already been declared/ });
    // Modules are strict: sloppy-only syntax is refused at save time, as it would fail to start.
    expect(refusal("function (o) {\n  with (o) {}\n}")).toMatchObject({ line: 2, column: 3, message: /'with' in strict mode/ });
    expect(refusal("function (a, a) {}").message).toMatch(/syntax error.*Argument name clash/);
    // Unterminated input is reported at the end of the admin's source, not inside the wrapper.
    expect(refusal("function (input) {\n  return 1")).toMatchObject({ line: 2, column: 11 });
    expect(refusal("function () { /* never closed")).toMatchObject({ message: /Unterminated comment/, line: 1, column: 15 });
  });
});
