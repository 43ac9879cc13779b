import { describe, expect, it } from "vitest";
import type { BalanceAction, UserSession } from "../../../../src/balancer/step.ts";
import { createResumeStep } from "../../../../src/balancer/steps/resume.ts";
import { chosen, context, input, server, session, user } from "../fixtures.ts";

const list = [server("srv_a"), server("srv_b"), server("srv_c")];

describe("resume", () => {
  it.each<{ name: string; action: BalanceAction; sessions: UserSession[]; expected: string | null }>([
    { name: "passes without sessions", action: "session/start", sessions: [], expected: null },
    { name: "takes the suspended session's server", action: "session/start", sessions: [session("srv_b", "suspended")], expected: "srv_b" },
    {
      name: "prefers suspended over running (X2Go)",
      action: "session/start",
      sessions: [session("srv_a", "running", 2000), session("srv_c", "suspended", 1000)],
      expected: "srv_c",
    },
    {
      name: "takes the most recent of several suspended sessions",
      action: "session/start",
      sessions: [session("srv_a", "suspended", 1000, "old"), session("srv_b", "suspended", 3000, "new")],
      expected: "srv_b",
    },
    { name: "falls back to a running session", action: "session/start", sessions: [session("srv_a", "running")], expected: "srv_a" },
    {
      name: "ignores sessions on servers outside its list",
      action: "session/start",
      sessions: [session("srv_gone", "suspended", 5000), session("srv_a", "running", 1000)],
      expected: "srv_a",
    },
    { name: "passes when every session is elsewhere", action: "session/start", sessions: [session("srv_gone", "suspended")], expected: null },
    {
      name: "login goes to the existing session's server, suspended preferred",
      action: "user/login",
      sessions: [session("srv_a", "running", 9000), session("srv_b", "suspended", 1000)],
      expected: "srv_b",
    },
  ])("$name", ({ action, sessions, expected }) => {
    const result = createResumeStep()(input(list, { action, user: user({ sessions }) }), context());
    expect(result === null ? null : chosen(result)).toBe(expected);
  });

  it("explains which session it resumes", () => {
    const result = createResumeStep()(input(list, { user: user({ sessions: [session("srv_b", "suspended", 1, "s-42")] }) }), context());
    expect(result).toMatchObject({ serverId: "srv_b", reason: expect.stringContaining("suspended session s-42") });
  });
});
