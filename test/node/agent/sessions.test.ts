import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCommandSessions } from "../../../agent/sessions/command.ts";
import { parseLoginctlSessions } from "../../../agent/sessions/loginctl.ts";
import { commandInvocation, createSessionSource, MAX_COMMAND_OUTPUT_BYTES } from "../../../agent/sessions/source.ts";
import { parseX2goSessions, parseX2goTime } from "../../../agent/sessions/x2go.ts";
import { encodeHeartbeatBody } from "../../../agent/body.ts";
import { MAX_HEARTBEAT_BODY_BYTES } from "../../../src/protocol.ts";
import { FIXTURES } from "./helpers.ts";

const local = (y: number, mo: number, d: number, h: number, mi: number, s: number) => new Date(y, mo - 1, d, h, mi, s).getTime();

describe("x2golistsessions lines", () => {
  it("maps running and suspended sessions (with or without Telekinesis ports) and counts the malformed line", async () => {
    const { sessions, parseErrors } = parseX2goSessions(await readFile(join(FIXTURES, "x2golistsessions.txt"), "utf8"));
    expect(parseErrors).toBe(1);
    expect(sessions).toHaveLength(3);
    expect(sessions[0]).toEqual({
      id: "alice-50-1763633472_stDXFCE_dp24",
      user: "alice",
      state: "running",
      startedAt: local(2026, 11, 20, 10, 11, 12),
      display: "50",
      clientIp: "10.0.4.21",
      lastActiveAt: local(2026, 11, 20, 11, 42, 5),
      x2go: { pid: 28417, cookie: "8c1f2e4d5a6b7c8d9e0f1a2b3c4d5e6f", graphicsPort: 30001, soundPort: 30002, sshfsPort: 30003 },
    });
    expect(sessions.map((s) => [s.user, s.state])).toEqual([
      ["alice", "running"],
      ["bob", "suspended"],
      ["alice", "suspended"],
    ]);
  });

  it.each([
    ["too few fields", "1|name|50|host|R|2026-11-20T10:11:12|c|ip|1|2|2026-11-20T10:11:12|alice|1"],
    ["too many fields", "1|name|50|host|R|2026-11-20T10:11:12|c|ip|1|2|2026-11-20T10:11:12|alice|1|1|1|1|1"],
    ["unknown status", "1|name|50|host|X|2026-11-20T10:11:12|c|ip|1|2|2026-11-20T10:11:12|alice|1|1|1|1"],
    ["bad created time", "1|name|50|host|R|yesterday|c|ip|1|2|2026-11-20T10:11:12|alice|1|1|1|1"],
    ["no user", "1|name|50|host|R|2026-11-20T10:11:12|c|ip|1|2|2026-11-20T10:11:12||1|1|1|1"],
  ])("skips a line with %s", (_, line) => {
    expect(parseX2goSessions(`${line}\n\n`)).toEqual({ sessions: [], parseErrors: 1 });
  });

  it("leaves out x2go fields that are not what x2go writes, and keeps the session", () => {
    const hostile = [
      ["99999999", "name-1", "c o", "-1"],
      ["4194305", "name-2", "<br>cookie", "65536"],
      ["0", "name-3", "abc:def", "x"],
      ["", "name-4", "", ""],
    ];
    const text = hostile.map(([pid, name, cookie, port]) => `${pid}|${name}|50|h|S|2026-11-20T10:11:12|${cookie}|ip|${port}|${port}|2026-11-20T10:11:12|alice|1|${port}`).join("\n");
    const { sessions, parseErrors } = parseX2goSessions(text);
    expect(parseErrors).toBe(0);
    expect(sessions.map((s) => [s.id, s.x2go])).toEqual(hostile.map(([, name]) => [name, undefined]));
    expect(parseX2goSessions("4194304|n|50|h|S|2026-11-20T10:11:12|ABCDEF|ip|1|65535|2026-11-20T10:11:12|alice|1|-1").sessions[0]?.x2go).toEqual({
      pid: 4_194_304,
      cookie: "ABCDEF",
      graphicsPort: 1,
      soundPort: 65_535,
    });
  });

  it("skips failed sessions (F) without counting them, and counts a session the wire schema refuses", () => {
    const failed = "1|name|50|host|F|2026-11-20T10:11:12|c|ip|1|2|2026-11-20T10:11:12|alice|1|1";
    const longName = `1|${"n".repeat(257)}|50|host|R|2026-11-20T10:11:12|c|ip|1|2|2026-11-20T10:11:12|alice|1|1`;
    expect(parseX2goSessions(`${failed}\n${longName}\n`)).toEqual({ sessions: [], parseErrors: 1 });
  });

  it("fits 150 X2Go sessions with every field into one heartbeat body", async () => {
    const [line = ""] = (await readFile(join(FIXTURES, "x2golistsessions.txt"), "utf8")).split("\n");
    const lines = Array.from({ length: 150 }, (_, i) => line.replace("alice-50-", `user${i}-${100 + i}-`).replace("|alice|", `|user${i}|`));
    const { sessions } = parseX2goSessions(lines.join("\n"));
    expect(sessions).toHaveLength(150);
    const proc = { loadAvg: [0, 0, 0] as [number, number, number], cpuCount: 4, cpuMhz: 2400, memTotalBytes: 1, memAvailableBytes: 1 };
    const { body, text } = encodeHeartbeatBody({ proc, sessions, staticData: {}, metrics: {} });
    expect(body.sessions).toHaveLength(150);
    expect(text.length).toBeLessThan(MAX_HEARTBEAT_BODY_BYTES);
  });

  it("parses x2go times as local time and refuses impossible dates", () => {
    expect(parseX2goTime("2026-01-02T03:04:05")).toBe(local(2026, 1, 2, 3, 4, 5));
    expect(parseX2goTime("2026-02-30T10:00:00")).toBeNull();
    expect(parseX2goTime("2026-02-03 10:00:00")).toBeNull();
  });
});

describe("loginctl sessions", () => {
  it("maps active/online to running, others to suspended, and skips service managers", async () => {
    const { sessions, parseErrors } = parseLoginctlSessions(await readFile(join(FIXTURES, "loginctl-sessions.json"), "utf8"));
    expect(parseErrors).toBe(0);
    expect(sessions.map((s) => [s.id, s.user, s.state, s.startedAt])).toEqual([
      ["3", "carol", "running", 0],
      ["7", "dave", "running", 0],
      ["9", "erin", "suspended", 0],
      ["12", "frank", "running", 0],
    ]);
  });

  it("treats empty output as no sessions and refuses a non-array", () => {
    expect(parseLoginctlSessions("")).toEqual({ sessions: [], parseErrors: 0 });
    expect(() => parseLoginctlSessions("{}")).toThrow(/not a JSON array/);
  });
});

describe("session command output", () => {
  const session = { id: "s1", user: "alice", state: "running", startedAt: 1 };

  it("accepts a bare array and an object with users", () => {
    expect(parseCommandSessions(JSON.stringify([session]))).toEqual({ sessions: [session], parseErrors: 0 });
    expect(parseCommandSessions(JSON.stringify({ sessions: [session], users: ["alice", "bob"] }))).toEqual({
      sessions: [session],
      users: ["alice", "bob"],
      parseErrors: 0,
    });
  });

  it("names the first invalid field", () => {
    expect(() => parseCommandSessions(JSON.stringify({ sessions: [{ ...session, state: "gone" }] }))).toThrow(
      /session command output: sessions\.0\.state: /,
    );
    expect(() => parseCommandSessions("not json")).toThrow(/did not print JSON/);
  });
});

describe("session sources", () => {
  it("runs plain command lines without a shell, and others through /bin/sh -c", () => {
    expect(commandInvocation("x2golistsessions --all-servers")).toEqual({ file: "x2golistsessions", args: ["--all-servers"] });
    expect(commandInvocation("list | grep alice")).toEqual({ file: "/bin/sh", args: ["-c", "list | grep alice"] });
  });

  it("runs loginctl with JSON output, a timeout and an output cap", async () => {
    const calls: unknown[] = [];
    const source = createSessionSource({ type: "loginctl" }, { exec: async (...args) => (calls.push(args), "[]") }, 2_000);
    await source(new AbortController().signal);
    expect(calls[0]).toEqual([
      "loginctl",
      ["list-sessions", "--output=json", "--no-pager"],
      expect.objectContaining({ timeoutMs: 2_000, maxOutputBytes: MAX_COMMAND_OUTPUT_BYTES }),
    ]);
  });

  it("runs the real x2go command through execFile", async () => {
    const { nodeDeps } = await import("../../../agent/node-deps.ts");
    const fixture = join(FIXTURES, "x2golistsessions.txt");
    const source = createSessionSource({ type: "x2go", command: `cat ${fixture}` }, nodeDeps(() => {}), 5_000);
    const result = await source(new AbortController().signal);
    expect(result.sessions).toHaveLength(3);
    expect(result.parseErrors).toBe(1);
  });
});
