/**
 * The command line: `enroll --config FILE --token TOKEN`, `rekey --config FILE`, `run --config FILE`, or
 * `tunnel-config --config FILE --tunnel-id UUID [--hostname H] [--service URL] [--credentials-file F]`. Pure.
 */
import { parseArgs } from "node:util";

export const USAGE =
  "usage: agent enroll --config FILE --token TOKEN | agent rekey --config FILE | agent run --config FILE | agent tunnel-config --config FILE --tunnel-id UUID [--hostname H] [--service URL] [--credentials-file F]";

export type CommandLine =
  | { command: "enroll"; configPath: string; token: string }
  | { command: "run"; configPath: string }
  | { command: "rekey"; configPath: string }
  | { command: "tunnel-config"; configPath: string; tunnelId: string; hostname?: string; service?: string; credentialsFile?: string };

/** Bad usage (including --help); the message is one line and ends with the usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** @param args process.argv without the node binary and script path. @throws UsageError */
export function parseCommandLine(args: readonly string[]): CommandLine {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    // parseArgs explains at length; its first sentence ("Unknown option '--x'") is the useful part.
    const reason = (error instanceof Error ? error.message : String(error)).split(/\.\s|\n/)[0];
    throw new UsageError(`${reason}; ${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError(USAGE);
  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError(`no command given; ${USAGE}`);
  if (command !== "enroll" && command !== "rekey" && command !== "run" && command !== "tunnel-config") throw new UsageError(`unknown command "${command}"; ${USAGE}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; ${USAGE}`);
  if (!values.config) throw new UsageError(`${command} needs --config FILE; ${USAGE}`);
  if (command === "tunnel-config") {
    if (values.token !== undefined) throw new UsageError(`tunnel-config does not take --token; ${USAGE}`);
    if (!values["tunnel-id"]) throw new UsageError(`tunnel-config needs --tunnel-id UUID; ${USAGE}`);
    return {
      command,
      configPath: values.config,
      tunnelId: values["tunnel-id"],
      ...(values.hostname ? { hostname: values.hostname } : {}),
      ...(values.service ? { service: values.service } : {}),
      ...(values["credentials-file"] ? { credentialsFile: values["credentials-file"] } : {}),
    };
  }
  const tunnelFlags = ["tunnel-id", "hostname", "service", "credentials-file"] as const;
  const stray = tunnelFlags.find((flag) => values[flag] !== undefined);
  if (stray) throw new UsageError(`--${stray} is only for tunnel-config; ${USAGE}`);
  if (command === "run" || command === "rekey") {
    if (values.token !== undefined) throw new UsageError(`${command} does not take --token; ${USAGE}`);
    return { command, configPath: values.config };
  }
  if (!values.token) throw new UsageError(`enroll needs --token TOKEN; ${USAGE}`);
  return { command, configPath: values.config, token: values.token };
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string" },
      token: { type: "string" },
      "tunnel-id": { type: "string" },
      hostname: { type: "string" },
      service: { type: "string" },
      "credentials-file": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
