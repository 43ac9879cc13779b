/**
 * The agent's config file: JSON, parsed once with zod at start-up. Any problem becomes one
 * `ConfigError` whose message names the field, e.g. `brokerUrl: must be an absolute http(s) URL`.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { clientAddressSchema, hostnameSchema, originUrlSchema } from "../src/protocol.ts";
import { gatewayConfigSchema } from "./gateway/config.ts";

export const DEFAULT_X2GO_COMMAND = "x2golistsessions --all-servers";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The message for a wrong type, or "is required" when the field is missing. */
const typeError = (message: string) => (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : message);

const httpUrlSchema = z.string({ error: typeError("must be an absolute http(s) URL") }).refine((value) => {
  if (!URL.canParse(value)) return false;
  return ["http:", "https:"].includes(new URL(value).protocol);
}, "must be an absolute http(s) URL");

const pathSchema = z.string({ error: typeError("must be a path") }).min(1, "must be a non-empty path");
const commandSchema = z.string({ error: typeError("must be a command line") }).trim().min(1, "must be a non-empty command line");

const durationMsSchema = (defaultMs: number) =>
  z
    .number({ error: typeError("must be a number of milliseconds") })
    .int("must be a whole number of milliseconds")
    .min(100, "must be at least 100 ms")
    .max(3_600_000, "must be at most 3600000 ms (one hour)")
    .default(defaultMs);

const sessionSourceSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("x2go"), command: commandSchema.default(DEFAULT_X2GO_COMMAND) }),
    z.strictObject({ type: z.literal("loginctl") }),
    z.strictObject({ type: z.literal("command"), command: commandSchema }),
    z.strictObject({ type: z.literal("none") }),
  ],
  { error: typeError('must be an object whose "type" is one of x2go, loginctl, command, none') },
);
export type SessionSourceConfig = z.infer<typeof sessionSourceSchema>;

const configFileSchema = z.strictObject(
  {
    brokerUrl: httpUrlSchema,
    stateDir: pathSchema,
    hostname: hostnameSchema.optional(),
    originUrl: originUrlSchema,
    clientAddress: clientAddressSchema.optional(),
    sessionSource: sessionSourceSchema,
    staticDataFile: pathSchema.optional(),
    procRoot: pathSchema.default("/proc"),
    requestTimeoutMs: durationMsSchema(5_000),
    maxBackoffMs: durationMsSchema(60_000),
    shutdownTimeoutMs: durationMsSchema(5_000),
    /** The node gateway (agent/gateway/): absent, the agent only heartbeats. */
    gateway: gatewayConfigSchema.optional(),
  },
  { error: "must be a JSON object" },
);

/** The parsed config: defaults applied, paths absolute, hostname resolved. Times in ms. */
export type AgentConfig = Omit<z.infer<typeof configFileSchema>, "hostname"> & {
  hostname: string;
  /** Absolute path of the file this came from (for messages). */
  configPath: string;
};

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    return `${path ? `${path}.` : ""}${key}: unknown field`;
  }
  const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
  return `${path || "(top level)"}: ${missing ? "is required" : issue.message}`;
}

/**
 * Parses the text of a config file. Relative paths resolve against the file's directory;
 * `defaultHostname` (os.hostname() in main.ts) fills a missing `hostname`.
 * @throws ConfigError with a one-line message naming the bad field.
 */
export function parseConfig(text: string, configPath: string, defaultHostname: string): AgentConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${configPath} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ConfigError(first ? formatIssue(first) : "invalid config");
  }
  const { hostname: configured, ...config } = parsed.data;
  const hostname = configured ?? defaultHostname;
  if (!hostnameSchema.safeParse(hostname).success) {
    throw new ConfigError(`hostname: "${hostname}" from this machine is not a valid hostname; set "hostname" in the config`);
  }
  const absoluteConfigPath = resolve(configPath);
  const baseDir = dirname(absoluteConfigPath);
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  return {
    ...config,
    hostname,
    configPath: absoluteConfigPath,
    stateDir: absolute(config.stateDir),
    procRoot: absolute(config.procRoot),
    ...(config.staticDataFile ? { staticDataFile: absolute(config.staticDataFile) } : {}),
  };
}

/** Reads and parses a config file; an unreadable file is a `ConfigError` too. */
export async function loadConfig(
  readText: (path: string) => Promise<string>,
  configPath: string,
  defaultHostname: string,
): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readText(configPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read ${configPath}${code ? ` (${code})` : ""}`);
  }
  return parseConfig(text, configPath, defaultHostname);
}
