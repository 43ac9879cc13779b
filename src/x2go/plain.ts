/**
 * The plain-text frontend's bodies, for x2goclient (x2gobroker `XB/web/plain.py`). Pure.
 *
 * ```
 * AUTHID:<cookie>
 * Access granted
 * START_USER_SESSIONS          listsessions, when at least one profile is visible
 *
 * [<id>]                       one INI section per profile, by id, each followed by an empty line
 * key=value
 *
 * END_USER_SESSIONS
 * SERVER:<host>:<port>         selectsession with a profile id
 * SESSION_INFO:<line>          when the user is sent back to a session
 * ```
 * x2goclient reads the cookie up to the line break, requires `Access granted`, reads the
 * listing as an INI file after replacing `<br>` by a line break, and splits the server line on
 * ':'. Booleans are written as 1/0 and lists joined with ','. Every text goes through
 * `x2goText` (the server through `x2goHost`), so no value holds a line break or a `<br>`.
 */
import type { X2goOutcome } from "./broker.ts";
import { plainProfileKeys, type X2goValue } from "./profile-keys.ts";
import { x2goHost, x2goText } from "./x2go-text.ts";

/**
 * The answer to `task=testcon`, which x2goclient's connection test sends without credentials:
 * x2gobroker's `OK`, plus `Access granted`, without which x2goclient reports "Login failed!".
 * It carries no cookie, so it neither needs nor breaks a cookie chain.
 */
export const PLAIN_TESTCON_BODY = "OK\nAccess granted\n";

/** One INI value, encoded by `x2goText`: x2goclient would turn a `<br>` into a new key. */
export function plainValue(value: X2goValue): string {
  return x2goText(typeof value === "boolean" ? (value ? "1" : "0") : Array.isArray(value) ? value.join(",") : String(value));
}

/** The body of a successful plain answer. */
export function renderPlain(outcome: X2goOutcome): string {
  let body = `AUTHID:${outcome.nextAuthid}\nAccess granted\n`;
  if (outcome.profiles && outcome.profiles.length > 0) {
    body += "START_USER_SESSIONS\n\n";
    for (const profile of outcome.profiles) {
      const keys = plainProfileKeys(profile.keys, profile.session);
      body += `[${x2goText(profile.id)}]\n${Object.entries(keys).map(([key, value]) => `${x2goText(key)}=${plainValue(value)}\n`).join("")}\n`;
    }
    body += "END_USER_SESSIONS\n";
  }
  if (outcome.selection) {
    body += `SERVER:${x2goHost(outcome.selection.server)}:${outcome.selection.port}\n`;
    if (outcome.selection.sessionInfo) body += `SESSION_INFO:${outcome.selection.sessionInfo}\n`;
  }
  return body;
}
