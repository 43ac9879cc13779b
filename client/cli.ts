/**
 * The helper's command line (pure): which command, with which options, each checked here so the
 * commands receive only valid values.
 */
import { parseArgs } from "node:util";
import { type ListenAddress, parseListenAddress } from "./local-listener.ts";

export const USAGE = `usage: edge-desktop COMMAND [options]
  login   --broker URL [--user LOGIN] [--password-stdin | --oidc-command CMD]   sign in once (kept in the config dir, refreshed)
  logout  [--broker URL]                                                        forget the sign-in
  status  [--broker URL]                                                        who is signed in, until when
  connect --profile ID [--broker URL] SERVER                                    stdin/stdout to SERVER's service (ssh ProxyCommand: %h)
  forward --profile ID --listen 127.0.0.1:PORT [--broker URL] SERVER            a local port to SERVER's service
  x2go    --listen 127.0.0.1:PORT [--broker URL]                                a local X2Go broker: point x2goclient or pyhoca-cli at
                                                                                http://127.0.0.1:PORT/plain/ or /json/
options for all: --source-address ADDR (reach the broker from this local address), --config-dir DIR
SERVER is a hostname, a serverId or an address as the broker knows it. --broker defaults to $EDGE_DESKTOP_BROKER, or the one broker signed in to.`;

export interface Common {
  broker?: string | undefined;
  sourceAddress?: string | undefined;
  configDir?: string | undefined;
}

export type CommandLine =
  | (Common & { command: "login"; user?: string | undefined; passwordStdin: boolean; oidcCommand?: string | undefined })
  | (Common & { command: "logout" | "status" })
  | (Common & { command: "connect"; profileId: string; server: string })
  | (Common & { command: "forward"; profileId: string; server: string; listen: ListenAddress })
  | (Common & { command: "x2go"; listen: ListenAddress });

export class UsageError extends Error {
  override name = "UsageError";
}

const PROFILE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const SERVER = /^[A-Za-z0-9._-]{1,253}$/;
const COMMANDS = ["login", "logout", "status", "connect", "forward", "x2go"] as const;

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      broker: { type: "string" },
      user: { type: "string" },
      "password-stdin": { type: "boolean" },
      "oidc-command": { type: "string" },
      profile: { type: "string" },
      listen: { type: "string" },
      "source-address": { type: "string" },
      "config-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

function allowOnly(command: string, values: Record<string, unknown>, allowed: string[]): void {
  const common = ["broker", "source-address", "config-dir", "help"];
  const stray = Object.keys(values).find((name) => values[name] !== undefined && !common.includes(name) && !allowed.includes(name));
  if (stray) throw new UsageError(`${command} does not take --${stray}`);
}

function listenOf(command: string, text: string | undefined): ListenAddress {
  if (!text) throw new UsageError(`${command} needs --listen 127.0.0.1:PORT`);
  const address = parseListenAddress(text);
  if (!address) throw new UsageError(`--listen ${text}: a loopback address and port, such as 127.0.0.1:2222 (whatever connects acts as you)`);
  return address;
}

/** @param args argv without node and the script. @throws UsageError */
export function parseCommandLine(args: readonly string[]): CommandLine {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new UsageError((error instanceof Error ? error.message : String(error)).split(/\.\s|\n/)[0] ?? "bad usage");
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError("");
  const [command, ...rest] = positionals;
  if (!command) throw new UsageError("no command given");
  if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`unknown command "${command}"`);
  const common: Common = { broker: values.broker, sourceAddress: values["source-address"], configDir: values["config-dir"] };
  const takesServer = command === "connect" || command === "forward";
  if (rest.length > (takesServer ? 1 : 0)) throw new UsageError(`unexpected argument "${rest.at(-1)}"`);
  switch (command) {
    case "login":
      allowOnly(command, values, ["user", "password-stdin", "oidc-command"]);
      if (values["oidc-command"] && (values.user || values["password-stdin"])) throw new UsageError("--oidc-command signs in without a password: drop --user and --password-stdin");
      return { ...common, command, user: values.user, passwordStdin: values["password-stdin"] === true, oidcCommand: values["oidc-command"] };
    case "logout":
    case "status":
      allowOnly(command, values, []);
      return { ...common, command };
    case "x2go":
      allowOnly(command, values, ["listen"]);
      return { ...common, command, listen: listenOf(command, values.listen) };
    default: {
      allowOnly(command, values, command === "forward" ? ["profile", "listen"] : ["profile"]);
      const server = rest[0];
      if (!values.profile || !PROFILE_ID.test(values.profile)) throw new UsageError(`${command} needs --profile ID (the profile that offers the service)`);
      if (!server || !SERVER.test(server)) throw new UsageError(`${command} needs the SERVER to reach: a hostname, serverId or address`);
      const target = { ...common, profileId: values.profile, server };
      return command === "forward" ? { ...target, command, listen: listenOf(command, values.listen) } : { ...target, command: "connect" };
    }
  }
}
