/** The helper's command line (client/cli.ts): what each command takes, and the refusals a user meets. */
import { describe, expect, it } from "vitest";
import { parseCommandLine, UsageError } from "../../../client/cli.ts";
import { parseListenAddress } from "../../../client/local-listener.ts";

function refusal(args: string[]): string {
  try {
    parseCommandLine(args);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a UsageError");
}

describe("edge-desktop command line", () => {
  it("parses each command with its options", () => {
    expect(parseCommandLine(["login", "--broker", "https://b.example", "--user", "alice", "--password-stdin"])).toEqual({
      command: "login",
      broker: "https://b.example",
      user: "alice",
      passwordStdin: true,
      oidcCommand: undefined,
      sourceAddress: undefined,
      configDir: undefined,
    });
    expect(parseCommandLine(["connect", "--profile", "ssh", "node-17"])).toMatchObject({ command: "connect", profileId: "ssh", server: "node-17" });
    expect(parseCommandLine(["forward", "--profile", "rdp", "--listen", "127.0.0.1:3390", "node-17"])).toMatchObject({ command: "forward", listen: { host: "127.0.0.1", port: 3390 } });
    expect(parseCommandLine(["x2go", "--listen", "[::1]:8022", "--source-address", "127.0.0.2"])).toMatchObject({ command: "x2go", listen: { host: "::1", port: 8022 }, sourceAddress: "127.0.0.2" });
    expect(parseCommandLine(["status"])).toMatchObject({ command: "status" });
  });

  it("answers --help with an empty UsageError (the usage goes to stdout)", () => {
    expect(refusal(["--help"])).toBe("");
  });

  it.each([
    [[], "no command given"],
    [["fly"], 'unknown command "fly"'],
    [["connect", "node-17"], "connect needs --profile ID"],
    [["connect", "--profile", "ssh"], "connect needs the SERVER to reach"],
    [["connect", "--profile", "ssh", "a", "b"], 'unexpected argument "b"'],
    [["connect", "--profile", "ssh", "--listen", "127.0.0.1:1", "a"], "connect does not take --listen"],
    [["forward", "--profile", "ssh", "node"], "forward needs --listen 127.0.0.1:PORT"],
    [["x2go", "--listen", "0.0.0.0:8022"], "--listen 0.0.0.0:8022: a loopback address and port"],
    [["login", "--oidc-command", "x", "--user", "a"], "--oidc-command signs in without a password"],
    [["status", "--nope"], "Unknown option '--nope'"],
  ])("refuses %j: %s", (args, message) => {
    expect(refusal(args)).toContain(message);
  });

  it.each(["127.0.0.1:0", "127.1.2.3:65535", "[::1]:22"])("takes the loopback listen address %s", (text) => {
    expect(parseListenAddress(text)).not.toBeNull();
  });

  it.each(["localhost:22", "10.0.0.1:22", "[::]:22", "127.0.0.1:65536", "127.0.0.1", "[::2]:22"])("refuses the listen address %s", (text) => {
    expect(parseListenAddress(text)).toBeNull();
  });
});
