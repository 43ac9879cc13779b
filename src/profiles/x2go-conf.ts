/**
 * Reads X2Go's `x2gobroker-sessionprofiles.conf` (the inifile backend) into our profiles. Pure.
 *
 * The INI dialect is read by ./ini.ts. Mapping: section name = id; `name`; `command` (X2Go's default
 * `TERMINAL`); `host=` entries `name`, `name (address)` or `name (address:port)`;
 * `acl-{users,groups,clients}-{allow,deny,order}` and `acl-any-order`; `broker-*` keys are
 * dropped with a warning; every other key goes to `x2goOptions`, typed as X2Go types it
 * (booleans, ints, comma lists; the value `not-set` drops the key).
 */
import { hostnameSchema } from "../protocol.ts";
import { type ConfIssue, type Entry, readIni, type Section } from "./ini.ts";
import { type AclOrder, aclOrderSchema } from "./acl-schema.ts";
import { DEFAULT_COMMAND, type ProfileMode, type ProfileSpec, profileSchema } from "./profile-schema.ts";

/** More profiles than this in one file are refused (one D1 batch writes them all). */
export const MAX_IMPORT_PROFILES = 500;

export interface ConfParseResult {
  /** Validated profiles in file order; empty whenever `errors` is not. */
  profiles: ProfileSpec[];
  /** Things dropped or defaulted on the way (broker-* keys, a missing host= …). */
  warnings: ConfIssue[];
  errors: ConfIssue[];
}

export interface ConfParseOptions {
  /** Every imported profile belongs to this pool. */
  pool: string;
  /** X2Go hands out the host itself, so imports default to `redirect`. */
  mode?: ProfileMode;
}

/** Typed like python-x2go's `X2GO_SESSIONPROFILE_DEFAULTS` (and x2gobroker's `usebrokerpass`). */
const BOOLEAN_KEYS = new Set(
  ("autologin autoconnect autostart setsessiontitle useiconv usesshproxy sshproxysameuser sshproxysamepass " +
    "sshproxyautologin uniquehostkeyaliases useexports restoreexports fstunnel usemimebox fullscreen maxdim setdpi " +
    "xinerama multidisp usekbd sound startsoundsystem soundtunnel defsndport krblogin forwardsshagent rootless " +
    "published directrdp print kdrive usebrokerpass").split(" "),
);
const INTEGER_KEYS = new Set("speed quality sshproxyport width height dpi display sndport sshport rdpport".split(" "));
const LIST_KEYS = new Set(["applications"]);
const TRUE_WORDS = new Set(["1", "yes", "true", "on"]);
const FALSE_WORDS = new Set(["0", "no", "false", "off"]);
const ACL_KINDS = ["users", "groups", "clients"] as const;

/** A comma list (`a, b`), or a Python list literal of strings (`['a', 'b']`) as X2Go evals it. */
function splitList(value: string): string[] {
  const literal = /^\[(.*)\]$/s.exec(value.trim());
  const items = (literal ? (literal[1] ?? "") : value).split(",").map((item) => item.trim());
  return items.map((item) => (literal ? item.replace(/^(['"])(.*)\1$/s, "$2") : item)).filter((item) => item !== "");
}

type OptionValue = string | number | boolean | string[];

/** X2Go's typing of a client key; `undefined` for `not-set`, an Error for a malformed value. */
function typedOption(key: string, value: string): OptionValue | undefined | Error {
  if (value === "not-set") return undefined;
  if (BOOLEAN_KEYS.has(key)) {
    const word = value.toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return new Error(`${key} must be a boolean (true/false, yes/no, on/off, 1/0)`);
  }
  if (INTEGER_KEYS.has(key)) return /^[+-]?\d{1,15}$/.test(value) ? Number(value) : new Error(`${key} must be an integer`);
  return LIST_KEYS.has(key) ? splitList(value) : value;
}

interface HostCandidate {
  name: string;
  address?: string;
  port?: number;
}

/** One `host=` entry: `name`, `name (address)` or `name (address:port)`. */
function parseHost(text: string, warn: (message: string) => void): HostCandidate | Error {
  const match = /^(\S+)\s+\((.*)\)$/.exec(text);
  if (!match) return { name: text };
  const name = match[1] ?? "";
  const target = (match[2] ?? "").trim();
  const withPort = /^([^:]*):(\d{1,5})$/.exec(target);
  const address = withPort ? (withPort[1] ?? "") : target;
  const port = withPort ? Number(withPort[2]) : undefined;
  if (port !== undefined && (port < 1 || port > 65_535)) return new Error(`host ${name}: port ${port} is out of range`);
  if (address.includes(":")) {
    warn(`host ${name}: IPv6 address ${address} dropped (X2Go clients split SERVER:<host>:<port> on ':'); the name is used`);
    return { name };
  }
  if (!hostnameSchema.safeParse(address).success) {
    warn(`host ${name}: address ${JSON.stringify(address)} is not a DNS name or IPv4 address and is dropped, as X2Go does`);
    return port === undefined ? { name } : { name, port };
  }
  return port === undefined ? { name, address } : { name, address, port };
}

function aclOrder(value: string | undefined, warn: (message: string) => void): AclOrder | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const parsed = aclOrderSchema.safeParse(value.trim());
  if (parsed.success) return parsed.data;
  warn(`ACL order ${JSON.stringify(value)} is neither allow-deny nor deny-allow; X2Go reads it as deny-allow`);
  return "deny-allow";
}

/**
 * Builds one profile from a section merged over `[DEFAULT]`, and validates it. Issues caused by a
 * `[DEFAULT]` line are reported once, under `DEFAULT`, however many sections inherit it.
 */
function convertSection(section: Section, defaults: Map<string, Entry>, options: ConfParseOptions, result: ConfParseResult, seen: Set<string>) {
  const merged = new Map([...defaults, ...section.entries]);
  const defaultLines = new Set([...defaults.values()].map((entry) => entry.line));
  let failed = false;
  const report = (list: "errors" | "warnings", line: number, message: string) => {
    failed ||= list === "errors";
    const where = defaultLines.has(line) ? "DEFAULT" : section.name;
    if (seen.has(`${list}|${line}|${where}|${message}`)) return;
    seen.add(`${list}|${line}|${where}|${message}`);
    result[list].push({ line, section: where, message });
  };
  const fieldLines = new Map<string, number>();
  const x2goOptions: Record<string, OptionValue> = {};
  const hosts: HostCandidate[] = [];
  for (const [key, entry] of merged) {
    fieldLines.set(key, entry.line);
    if (key === "name" || key === "command") continue;
    if (key.startsWith("broker-")) {
      report("warnings", entry.line, `${key} dropped: broker-* keys configure X2Go's broker; use the pool's policy`);
    } else if (key.startsWith("acl-")) {
      if (!/^acl-(any-order|(users|groups|clients)-(allow|deny|order))$/.test(key)) report("warnings", entry.line, `${key} is not an X2Go ACL key and is dropped`);
    } else if (key === "host") {
      for (const text of splitList(entry.value)) {
        const host = parseHost(text, (message) => report("warnings", entry.line, message));
        if (host instanceof Error) report("errors", entry.line, host.message);
        else hosts.push(host);
      }
    } else {
      const value = typedOption(key, entry.value);
      if (value instanceof Error) report("errors", entry.line, value.message);
      else if (value !== undefined) x2goOptions[key] = value;
    }
  }
  const acl: Record<string, { allow: string[]; deny: string[]; order?: AclOrder }> = {};
  for (const kind of ACL_KINDS) {
    const allow = splitList(merged.get(`acl-${kind}-allow`)?.value ?? "");
    const deny = splitList(merged.get(`acl-${kind}-deny`)?.value ?? "");
    const own = merged.get(`acl-${kind}-order`);
    const orderKey = own?.value.trim() ? `acl-${kind}-order` : "acl-any-order";
    const orderEntry = merged.get(orderKey);
    const order = orderEntry ? aclOrder(orderEntry.value, (message) => report("warnings", orderEntry.line, message)) : undefined;
    if (allow.length + deny.length > 0) acl[kind] = order ? { allow, deny, order } : { allow, deny };
  }
  if (hosts.length === 0) report("warnings", section.line, "no host: the profile uses every server of the pool");
  if (!merged.has("name")) report("warnings", section.line, "no name= key: the profile id is used as its name");
  const candidate = {
    id: section.name,
    name: merged.get("name")?.value ?? section.name,
    pool: options.pool,
    mode: options.mode ?? "redirect",
    hosts,
    command: merged.get("command")?.value || DEFAULT_COMMAND,
    acl,
    x2goOptions,
  };
  const parsed = profileSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [field, key] = issue.path.map(String);
      const line =
        (field === "x2goOptions" && key ? fieldLines.get(key) : undefined) ??
        (field === "acl" && key ? (fieldLines.get(`acl-${key}-allow`) ?? fieldLines.get(`acl-${key}-deny`)) : undefined) ??
        fieldLines.get(field === "hosts" ? "host" : (field ?? "")) ??
        section.line;
      const where = issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
      report("errors", line, `${where}${issue.message}`);
    }
  } else if (!failed) {
    result.profiles.push(parsed.data);
  }
}

/**
 * Parses a session-profiles file. Never throws: malformed lines and invalid profiles are
 * `errors` (with line numbers), and `profiles` is empty whenever there is any error, so a caller
 * can import all or nothing. Pool existence and id conflicts are the caller's to check.
 */
export function parseSessionProfiles(text: string, options: ConfParseOptions): ConfParseResult {
  const result: ConfParseResult = { profiles: [], warnings: [], errors: [] };
  const { defaults, sections } = readIni(text, result.errors);
  if (sections.length > MAX_IMPORT_PROFILES) {
    result.errors.push({ line: sections[MAX_IMPORT_PROFILES]?.line ?? 1, message: `more than ${MAX_IMPORT_PROFILES} profiles` });
    return result;
  }
  if (sections.length === 0 && result.errors.length === 0) result.errors.push({ line: 1, message: "the file defines no profile section" });
  const seen = new Set<string>();
  for (const section of sections) convertSection(section, defaults, options, result, seen);
  if (result.errors.length > 0) result.profiles = [];
  return result;
}

/** `line 12 [pool-lb]: message` */
export function formatConfIssue(issue: ConfIssue): string {
  return `line ${issue.line}${issue.section === undefined ? "" : ` [${issue.section}]`}: ${issue.message}`;
}
