/**
 * What a script can cost a selection: its messages are clipped wherever the chain reports them,
 * and all script steps of one run share one wall-time budget (each call gets what is left).
 */
import { describe, expect, it } from "vitest";
import { type ChainContext, type ChainResult, runChain, type ScriptRunner } from "../../../src/balancer/chain.ts";
import type { Policy } from "../../../src/balancer/policy.ts";
import { MAX_MESSAGE_BYTES } from "../../../src/core/clip.ts";
import { context, input, server } from "./fixtures.ts";

const list = [server("srv_a"), server("srv_b")];
const HUGE = "x".repeat(3_000_000);
/** A clipped message: the limit plus the ellipsis and the count of what was cut. */
const CLIPPED_BYTES = MAX_MESSAGE_BYTES + 64;
const bytes = (text: string | undefined) => new TextEncoder().encode(text ?? "").byteLength;

function messagesOf(result: ChainResult): string[] {
  return [result.ok ? result.reason : result.message, ...result.trace.map((entry) => entry.message ?? "")];
}

const scripted = (...sources: string[]): Policy => ({ steps: [...sources.map((script) => ({ script, name: script })), { use: "least-loaded" }] });

describe("runChain: script messages are clipped", () => {
  const answers: Record<string, () => unknown> = {
    "huge-choice": () => HUGE,
    "huge-list": () => Array.from({ length: 5 }, (_, index) => ({ serverId: `${index}${HUGE}` })),
    "huge-junk": () => ({ note: HUGE }),
    "huge-refusal": () => {
      throw new Error(HUGE);
    },
    "huge-broken": () => {
      throw Object.assign(new Error(HUGE), { kind: "failed" });
    },
  };
  const run: ScriptRunner = async (source) => (answers[source] as () => unknown)();

  it("a 3 MB choice, list, junk value, refusal or sandbox error leaves messages and trace of about 1 KiB", async () => {
    for (const name of Object.keys(answers)) {
      const result = await runChain(scripted(name), input(list), context(), run);
      expect(result.ok, name).toBe(false);
      for (const message of messagesOf(result)) expect(bytes(message), name).toBeLessThanOrEqual(CLIPPED_BYTES);
      expect(bytes(JSON.stringify(result)), name).toBeLessThan(4 * CLIPPED_BYTES);
    }
  });
});

describe("runChain: the per-selection script budget", () => {
  /** A fake sandbox on a fake clock: each script "takes" its duration, cut at the call's timeout. */
  function timedRunner(durationsMs: Record<string, number>, ownTimeoutMs = 1000) {
    let nowMs = 0;
    const timeouts: number[] = [];
    const runScript: ScriptRunner = async (source, _input, limits) => {
      const allowedMs = Math.min(ownTimeoutMs, limits?.timeoutMs ?? ownTimeoutMs);
      timeouts.push(allowedMs);
      const takesMs = durationsMs[source] as number;
      if (takesMs > allowedMs) {
        nowMs += allowedMs;
        throw Object.assign(new Error(`script did not finish within ${allowedMs} ms`), { kind: "timeout" });
      }
      nowMs += takesMs;
      return null;
    };
    const ctx: ChainContext = { ...context(), clock: () => nowMs, scriptBudgetMs: 1000 };
    return { runScript, ctx, timeouts };
  }

  it("two slow scripts that together exceed it fail the selection clearly (POLICY_INVALID_RESULT)", async () => {
    const { runScript, ctx, timeouts } = timedRunner({ first: 700, second: 700 });
    const result = await runChain(scripted("first", "second"), input(list), ctx, runScript);
    expect(timeouts).toEqual([1000, 300]);
    expect(result).toMatchObject({ ok: false, code: "POLICY_INVALID_RESULT" });
    expect(result.ok ? "" : result.message).toMatch(/step 2 \(second\) was stopped: .*time budget.*1000 ms/);
    expect(result.trace.map((entry) => entry.outcome)).toEqual(["passed", "invalid"]);
  });

  it("a script step found with no time left is not run", async () => {
    const { runScript, ctx, timeouts } = timedRunner({ first: 600, second: 400, third: 1 });
    const result = await runChain(scripted("first", "second", "third"), input(list), ctx, runScript);
    expect(timeouts).toEqual([1000, 400]);
    expect(result).toMatchObject({ ok: false, code: "POLICY_INVALID_RESULT" });
    expect(result.ok ? "" : result.message).toMatch(/step 3 \(third\) was not run: .*time budget.*1000 ms/);
  });

  it("each call gets what is left; scripts within it run as before, and a shorter own timeout stays the script's", async () => {
    const within = timedRunner({ first: 500, second: 450 });
    expect(await runChain(scripted("first", "second"), input(list), within.ctx, within.runScript)).toMatchObject({ ok: true });
    expect(within.timeouts).toEqual([1000, 500]);

    const own = timedRunner({ slow: 400 }, 300);
    const result = await runChain(scripted("slow"), input(list), own.ctx, own.runScript);
    expect(result).toMatchObject({ ok: false, code: "POLICY_INVALID_RESULT", message: "step 1 (slow) failed: script did not finish within 300 ms" });
  });
});
