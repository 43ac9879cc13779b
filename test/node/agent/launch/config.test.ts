import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../../agent/config.ts";
import { DEFAULT_LAUNCHER_PATH } from "../../../../agent/launch/config.ts";

const base = { brokerUrl: "https://broker.example.com", stateDir: "state", originUrl: "http://127.0.0.1:6080", sessionSource: { type: "none" } };
const parse = (launchers: unknown) => parseConfig(JSON.stringify({ ...base, launchers }), "/etc/agent/agent.json", "desk01");

function errorFor(launchers: unknown): string {
  try {
    parse(launchers);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("config: the launchers section", () => {
  it("is optional: without it the node launches nothing", () => {
    expect(parseConfig(JSON.stringify(base), "/etc/agent/agent.json", "desk01").launchers).toBeUndefined();
  });

  it("fills defaults and resolves the directory against the config file's directory", () => {
    expect(parse({ dir: "launchers" }).launchers).toEqual({
      dir: "/etc/agent/launchers",
      timeoutMs: 30_000,
      maxOutputBytes: 65_536,
      statusIntervalMs: 3_000,
      liveCheckIntervalMs: 30_000,
      maxQueuedMs: 3_600_000,
      endpointHosts: [],
      path: DEFAULT_LAUNCHER_PATH,
    });
    expect(parse({ dir: "/opt/edge-broker/agent/launchers", endpointHosts: ["gpu01", "*.compute.example.org"] }).launchers).toMatchObject({ dir: "/opt/edge-broker/agent/launchers", endpointHosts: ["gpu01", "*.compute.example.org"] });
  });

  it("names the bad field", () => {
    expect(errorFor({})).toBe("launchers.dir: is required");
    expect(errorFor({ dir: "x", timeoutMs: 10 })).toBe("launchers.timeoutMs: must be at least 100 ms");
    expect(errorFor({ dir: "x", maxOutputBytes: 10 })).toMatch(/^launchers\.maxOutputBytes: /);
    expect(errorFor({ dir: "x", endpointHosts: ["10.0.0.0/8"] })).toBe("launchers.endpointHosts.0: must be a host name or *.domain");
    expect(errorFor({ dir: "x", shell: true })).toBe("launchers.shell: unknown field");
    expect(errorFor("launchers")).toMatch(/^launchers: must be an object/);
  });
});
