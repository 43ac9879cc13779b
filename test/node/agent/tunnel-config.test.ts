import { describe, expect, it } from "vitest";
import { parseCommandLine, UsageError } from "../../../agent/cli.ts";
import { hostnameOfOrigin, renderTunnelConfig } from "../../../agent/tunnel-config.ts";

const tunnelId = "6ff42ae2-765d-4adf-8112-31c55c1551ef";

describe("agent tunnel-config", () => {
  it("renders an ingress from the node's hostname to the local desktop endpoint, with a 404 catch-all", () => {
    const yaml = renderTunnelConfig({ tunnelId, hostname: "node-17.example.com", service: "http://127.0.0.1:6080", credentialsFile: `/etc/cloudflared/${tunnelId}.json` });
    expect(yaml).toContain(`tunnel: ${tunnelId}\n`);
    expect(yaml).toContain(`credentials-file: /etc/cloudflared/${tunnelId}.json\n`);
    expect(yaml).toContain("  - hostname: node-17.example.com\n    service: http://127.0.0.1:6080\n  - service: http_status:404\n");
    expect(yaml.indexOf("hostname: node-17")).toBeLessThan(yaml.indexOf("http_status:404"));
  });

  it.each([
    [{ tunnelId: "nope" }, /UUID/],
    [{ hostname: "localhost" }, /DNS name/],
    [{ service: "ftp://127.0.0.1" }, /http/],
  ])("refuses %j with a readable message", (patch, message) => {
    const options = { tunnelId, hostname: "node-17.example.com", service: "http://127.0.0.1:6080", credentialsFile: "/x.json", ...patch };
    expect(() => renderTunnelConfig(options)).toThrow(message);
  });

  it("takes the hostname from the enrolled origin URL by default", () => {
    expect(hostnameOfOrigin("https://node-17.example.com/websockify")).toBe("node-17.example.com");
  });

  it("parses the command line, and keeps tunnel flags away from other commands", () => {
    expect(parseCommandLine(["tunnel-config", "--config", "a.json", "--tunnel-id", tunnelId, "--service", "http://127.0.0.1:5901"])).toEqual({
      command: "tunnel-config",
      configPath: "a.json",
      tunnelId,
      service: "http://127.0.0.1:5901",
    });
    expect(() => parseCommandLine(["tunnel-config", "--config", "a.json"])).toThrow(UsageError);
    expect(() => parseCommandLine(["run", "--config", "a.json", "--tunnel-id", tunnelId])).toThrow(/only for tunnel-config/);
  });
});
