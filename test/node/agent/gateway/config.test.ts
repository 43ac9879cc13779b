import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../../agent/config.ts";
import { listenUrl, parseListenAddress } from "../../../../agent/gateway/config.ts";
import { parseEndpoint } from "../../../../agent/gateway/endpoint.ts";
import { defaultTunnelService } from "../../../../agent/tunnel-config.ts";

const base = {
  brokerUrl: "https://broker.example.com",
  stateDir: "state",
  originUrl: "https://node-17.example.com/",
  sessionSource: { type: "none" },
};

function parse(gateway: unknown) {
  return parseConfig(JSON.stringify({ ...base, gateway }), "/etc/agent/agent.json", "desk01");
}

function errorFor(gateway: unknown): string {
  try {
    parse(gateway);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("config: the gateway section", () => {
  it("parses listen and endpoints, with defaults for the limits", () => {
    const config = parse({ listen: "127.0.0.1:7080", endpoints: { "*": "tcp://127.0.0.1:5901", ses_1: "unix:/run/vnc/ses_1.sock", ses_2: "ws://127.0.0.1:8080/ws" } });
    expect(config.gateway).toEqual({
      listen: { host: "127.0.0.1", port: 7080 },
      maxConnections: 200,
      maxMessageBytes: 1024 * 1024,
      connectTimeoutMs: 5_000,
      endpoints: {
        "*": { kind: "tcp", host: "127.0.0.1", port: 5901 },
        ses_1: { kind: "unix", path: "/run/vnc/ses_1.sock" },
        ses_2: { kind: "ws", url: "ws://127.0.0.1:8080/ws" },
      },
      services: {},
    });
  });

  it("is optional: without it the agent only heartbeats", () => {
    expect(parseConfig(JSON.stringify(base), "/etc/agent/agent.json", "desk01").gateway).toBeUndefined();
  });

  it.each(["0.0.0.0:7080", "192.168.1.5:7080", "[::]:7080", "localhost:7080", "example.com:7080"])("refuses the non-loopback listen address %s", (listen) => {
    expect(errorFor({ listen })).toBe(
      `gateway.listen: "${listen}" is refused: must be a loopback address and port such as "127.0.0.1:7080" or "[::1]:7080" (cloudflared on this node is the gateway's only client)`,
    );
  });

  it.each([
    ["a missing listen", {}, "gateway.listen: is required"],
    ["port 0", { listen: "127.0.0.1:0" }, /gateway\.listen: "127\.0\.0\.1:0" is refused/],
    ["a bad endpoint", { listen: "127.0.0.1:7080", endpoints: { "*": "http://127.0.0.1:5901" } }, 'gateway.endpoints.*: "http://127.0.0.1:5901" is not an endpoint (tcp://host:port, unix:/absolute/path, ws://… or wss://…)'],
    ["a tcp endpoint without a port", { listen: "127.0.0.1:7080", endpoints: { "*": "tcp://127.0.0.1" } }, /gateway\.endpoints\.\*: .* is not an endpoint/],
    ["a relative unix path", { listen: "127.0.0.1:7080", endpoints: { "*": "unix:run/vnc.sock" } }, /is not an endpoint/],
    ["a zero cap", { listen: "127.0.0.1:7080", maxConnections: 0 }, "gateway.maxConnections: must be at least 1"],
    ["an unknown field", { listen: "127.0.0.1:7080", maxConnection: 5 }, "gateway.maxConnection: unknown field"],
  ])("%s is one readable line", (_, gateway, message) => {
    expect(errorFor(gateway)).toMatch(message);
  });

  it("accepts any loopback literal and renders it back as the tunnel's service", () => {
    expect(parseListenAddress("127.0.0.2:80")).toEqual({ host: "127.0.0.2", port: 80 });
    expect(parseListenAddress("[::1]:7080")).toEqual({ host: "::1", port: 7080 });
    expect(listenUrl({ host: "::1", port: 7080 })).toBe("http://[::1]:7080");
    expect(parseEndpoint("tcp://[::1]:5901")).toEqual({ kind: "tcp", host: "::1", port: 5901 });
  });

  it("makes the gateway the default ingress service of agent tunnel-config", () => {
    expect(defaultTunnelService(parse({ listen: "127.0.0.1:7080" }))).toBe("http://127.0.0.1:7080");
    expect(defaultTunnelService({})).toBe("http://127.0.0.1:6080");
  });
});

describe("agent/agent.example.json", () => {
  it("parses, with a gateway in front of one shared desktop", async () => {
    const text = await readFile(new URL("../../../../agent/agent.example.json", import.meta.url), "utf8");
    const config = parseConfig(text, "/etc/edge-broker-agent/agent.json", "desk01");
    expect(config.gateway).toMatchObject({ listen: { host: "127.0.0.1", port: 7080 }, endpoints: { "*": { kind: "tcp", port: 5901 } } });
  });
});
