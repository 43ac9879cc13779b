import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_X2GO_COMMAND, parseConfig } from "../../../agent/config.ts";

const valid = {
  brokerUrl: "https://broker.example.com",
  stateDir: "state",
  originUrl: "http://127.0.0.1:6080",
  sessionSource: { type: "x2go" },
};

function errorFor(config: unknown): string {
  try {
    parseConfig(typeof config === "string" ? config : JSON.stringify(config), "/etc/agent/agent.json", "desk01");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("config: defaults and paths", () => {
  it("fills defaults and resolves relative paths against the config file's directory", () => {
    const config = parseConfig(JSON.stringify({ ...valid, staticDataFile: "static.json" }), "/etc/agent/agent.json", "desk01");
    expect(config).toMatchObject({
      hostname: "desk01",
      stateDir: "/etc/agent/state",
      staticDataFile: "/etc/agent/static.json",
      procRoot: "/proc",
      requestTimeoutMs: 5_000,
      maxBackoffMs: 60_000,
      shutdownTimeoutMs: 5_000,
      sessionSource: { type: "x2go", command: DEFAULT_X2GO_COMMAND },
      configPath: "/etc/agent/agent.json",
    });
  });

  it("keeps absolute paths and an explicit hostname", () => {
    const config = parseConfig(JSON.stringify({ ...valid, stateDir: "/var/lib/agent", hostname: "node7" }), "agent.json", "x");
    expect(config.stateDir).toBe("/var/lib/agent");
    expect(config.hostname).toBe("node7");
  });
});

describe("config errors are one readable line naming the field", () => {
  it.each([
    ["a bad broker URL", { ...valid, brokerUrl: "broker.example.com" }, "brokerUrl: must be an absolute http(s) URL"],
    ["a non-http broker URL", { ...valid, brokerUrl: "ftp://broker" }, "brokerUrl: must be an absolute http(s) URL"],
    ["a missing stateDir", { ...valid, stateDir: undefined }, "stateDir: is required"],
    ["an unknown field", { ...valid, brokerURL: "x" }, "brokerURL: unknown field"],
    ["an unknown session source", { ...valid, sessionSource: { type: "rdp" } }, 'sessionSource.type: must be an object whose "type" is one of x2go, loginctl, command, none'],
    ["a command source without command", { ...valid, sessionSource: { type: "command" } }, "sessionSource.command: is required"],
    ["an unknown field in the session source", { ...valid, sessionSource: { type: "none", command: "x" } }, "sessionSource.command: unknown field"],
    ["a too short timeout", { ...valid, requestTimeoutMs: 5 }, "requestTimeoutMs: must be at least 100 ms"],
    ["a bad origin", { ...valid, originUrl: "127.0.0.1:6080" }, "originUrl: origin must be an absolute http(s) or ws(s) URL"],
    ["a bad client address", { ...valid, clientAddress: "[::1]:22" }, "clientAddress: client address must be host or host:port (no IPv6 literal)"],
    ["not an object", [], "(top level): must be a JSON object"],
  ])("%s", (_, config, message) => {
    expect(errorFor(config)).toBe(message);
  });

  it("reports invalid JSON with the file name", () => {
    expect(errorFor("{ brokerUrl: ")).toMatch(/^\/etc\/agent\/agent\.json is not valid JSON: /);
  });

  it("asks for a hostname when this machine's is not valid", () => {
    expect(() => parseConfig(JSON.stringify(valid), "/a.json", "under_score")).toThrow(/^hostname: "under_score" .* set "hostname"/);
  });

  it("never spans more than one line", () => {
    expect(errorFor("{\n")).not.toContain("\n");
  });
});
