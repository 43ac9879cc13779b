import { describe, expect, it } from "vitest";
import { candidateServers } from "../../../src/balancer/candidates.ts";
import type { BalanceAction } from "../../../src/balancer/step.ts";
import { server, session } from "./fixtures.ts";

const pool = [
  server("srv_up"),
  server("srv_down", { status: "down" }),
  server("srv_drain", { status: "draining", draining: true }),
  server("srv_drain_flag", { draining: true }),
];

describe("candidateServers", () => {
  it.each<{ name: string; action: BalanceAction; sessions: ReturnType<typeof session>[]; expected: string[] }>([
    { name: "start without sessions: only up servers", action: "session/start", sessions: [], expected: ["srv_up"] },
    { name: "login without sessions: only up servers", action: "user/login", sessions: [], expected: ["srv_up"] },
    {
      name: "start keeps a draining server holding the user's suspended session",
      action: "session/start",
      sessions: [session("srv_drain", "suspended")],
      expected: ["srv_up", "srv_drain"],
    },
    {
      name: "login keeps a draining server holding the user's running session",
      action: "user/login",
      sessions: [session("srv_drain_flag", "running")],
      expected: ["srv_up", "srv_drain_flag"],
    },
    {
      name: "a session on a down server never brings it back",
      action: "session/start",
      sessions: [session("srv_down", "suspended")],
      expected: ["srv_up"],
    },
  ])("$name", ({ action, sessions, expected }) => {
    expect(candidateServers(pool, action, { sessions }).map((entry) => entry.serverId)).toEqual(expected);
  });

  it("is idempotent", () => {
    const once = candidateServers(pool, "session/start", { sessions: [session("srv_drain", "suspended")] });
    expect(candidateServers(once, "session/start", { sessions: [session("srv_drain", "suspended")] })).toEqual(once);
  });
});
