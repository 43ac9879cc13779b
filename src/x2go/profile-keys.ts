/**
 * A profile as X2Go clients see it in a listing: our `Profile` mapped onto X2Go session-profile
 * keys, then shaped per frontend. Pure.
 *
 * Mapping (after x2gobroker's `get_profile_for_user`, base_broker.py l.1239-1325):
 * - `name`, `command` (a known desktop is upper-cased and forces `rootless` off), `user` (the
 *   profile's `user` option, `BROKER_USER` or absent meaning the broker login), then the
 *   profile's further X2Go options as stored.
 * - `host` lists names only, never addresses: the host of the user's resumable session if any
 *   (as x2gobroker does with an agent), else the profile's host names, else, for a profile over
 *   the whole pool, one server hostname the caller picked for it (`poolHost`, never the pool's
 *   name). It is for display: the target comes from selectsession.
 * - `status` (`S`/`R`, a resumable session) goes to the plain frontend only.
 *
 * The JSON frontend sends only keys python-x2go knows, typed as it types them: any other key
 * makes python-x2go crash (`TypeError: string argument without an encoding`), and it converts
 * each value with `type(default)(value)`, so `"0"` would read as True and a string host as a
 * list of characters. Values that cannot be typed are left out; python-x2go fills in defaults.
 */
import type { Profile } from "../profiles/profile-schema.ts";

export type X2goValue = string | number | boolean | string[];
export type X2goKeys = Record<string, X2goValue>;

/** A resumable session of the user on one of the profile's hosts. */
export interface ListedSession {
  hostname: string;
  state: "running" | "suspended";
}

/** Commands x2gobroker treats as desktops (base_broker.py l.1291-1293). */
const DESKTOP_COMMANDS = new Set(["KDE", "GNOME", "XFCE", "CINNAMON", "MATE", "LXDE", "TRINITY", "UNITY", "ICEWM", "OPENBOX", "XDMCP"]);
/** The profile `user` value x2gobroker replaces by the authenticated user. */
const BROKER_USER = "BROKER_USER";

type KeyType = "bool" | "int" | "str" | "list";

/**
 * python-x2go 0.6.1.3 `X2GO_SESSIONPROFILE_DEFAULTS` (x2go/defaults.py l.298-319), by the type
 * of each default. `export` (a dict) is left out: no stored value converts to it.
 */
const PYTHON_X2GO_KEYS: ReadonlyMap<string, KeyType> = new Map<string, KeyType>([
  ...words(
    "autologin autoconnect autostart setsessiontitle useiconv usesshproxy sshproxysameuser sshproxysamepass sshproxyautologin " +
      "uniquehostkeyaliases useexports restoreexports fstunnel usemimebox fullscreen maxdim setdpi xinerama multidisp usekbd " +
      "sound startsoundsystem soundtunnel defsndport krblogin forwardsshagent rootless published directrdp print kdrive",
    "bool",
  ),
  ...words("speed quality sshproxyport width height dpi display sndport sshport rdpport", "int"),
  ...words(
    "sessiontitle pack iconvto iconvfrom sshproxyhost sshproxyuser sshproxykeyfile sshproxytype mimeboxextensions mimeboxaction " +
      "clipboard layout type variant soundsystem name icon user key command directrdpsettings rdpclient rdpoptions rdpserver xdmcpserver",
    "str",
  ),
  ...words("host applications", "list"),
]);

function words(list: string, type: KeyType): Array<[string, KeyType]> {
  return list.split(" ").map((word) => [word, type]);
}

/**
 * The X2Go keys of `profile` for `login`, in listing order (`status` excluded). `poolHost` is the
 * host shown for a profile without hosts when the user has no session to resume.
 */
export function profileKeys(profile: Profile, login: string, session: ListedSession | undefined, poolHost: string): X2goKeys {
  const isDesktop = DESKTOP_COMMANDS.has(profile.command.toUpperCase());
  const { user, ...options } = profile.x2goOptions;
  const hostNames = profile.hosts.map((host) => host.name);
  return {
    name: profile.name,
    host: session ? [session.hostname] : hostNames.length > 0 ? hostNames : [poolHost],
    command: isDesktop ? profile.command.toUpperCase() : profile.command,
    user: user === undefined || user === BROKER_USER ? login : user,
    ...options,
    ...(isDesktop ? { rootless: false } : {}),
  };
}

/** The plain listing's keys: every key, plus `status=S|R` when the user has a session to resume. */
export function plainProfileKeys(keys: X2goKeys, session?: ListedSession): X2goKeys {
  return session ? { ...keys, status: session.state === "suspended" ? "S" : "R" } : keys;
}

const TRUE_WORDS = new Set(["1", "yes", "true", "on"]);
const FALSE_WORDS = new Set(["0", "no", "false", "off"]);

function typed(value: X2goValue, type: KeyType): X2goValue | undefined {
  switch (type) {
    case "bool":
      if (typeof value === "boolean") return value;
      if (typeof value === "number") return value !== 0;
      if (typeof value === "string") return TRUE_WORDS.has(value.toLowerCase()) ? true : FALSE_WORDS.has(value.toLowerCase()) ? false : undefined;
      return undefined;
    case "int":
      if (typeof value === "number") return Number.isInteger(value) ? value : undefined;
      return typeof value === "string" && /^[+-]?\d{1,15}$/.test(value) ? Number(value) : undefined;
    case "str":
      if (typeof value === "string") return value;
      if (typeof value === "number") return String(value);
      return Array.isArray(value) ? value.join(",") : undefined;
    case "list":
      if (Array.isArray(value)) return value;
      return typeof value === "string" ? value.split(",").map((item) => item.trim()).filter((item) => item !== "") : undefined;
  }
}

/** The JSON listing's keys: python-x2go's keys only, typed as its defaults. */
export function jsonProfileKeys(keys: X2goKeys): X2goKeys {
  const result: X2goKeys = {};
  for (const [key, value] of Object.entries(keys)) {
    const type = PYTHON_X2GO_KEYS.get(key);
    const converted = type === undefined ? undefined : typed(value, type);
    if (converted !== undefined) result[key] = converted;
  }
  return result;
}
