/**
 * Output encoding of every text the X2Go answers carry (profile values, hosts, session fields).
 * Pure. Profiles are checked when written (src/profiles/profile-schema.ts), but rows written
 * before that check, or straight to D1, and whatever nodes report still pass through here.
 *
 * What clients do with it: x2goclient replaces every `<br>` of a listing by a line break before
 * reading it as INI (httpbrokerclient.cpp `createIniFile`), so a `<br>` inside a value starts a
 * key of its own; Qt and Python split lines on CR and LF, Python's `splitlines` also on C1 (NEL),
 * U+2028 and U+2029.
 */

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const LINE_BREAKING = /[\p{Cc}\u2028\u2029]/gu;
const X2GO_BREAK = /<br>/i;
const X2GO_BREAKS = /<br>/gi;

/**
 * `value` as one X2Go value: each line-breaking character becomes `_`, then `<br>` (any case) is
 * removed until none is left, since one removal can join its surroundings into another
 * (`<b<br>r>`). Removing `<br>` leaves no new line-breaking character, so the result holds
 * neither.
 */
export function x2goText(value: string): string {
  let text = value.replace(LINE_BREAKING, "_");
  while (X2GO_BREAK.test(text)) text = text.replace(X2GO_BREAKS, "");
  return text;
}

/**
 * A host for `SERVER:<host>:<port>` and `selected_session.server`: a DNS name or IPv4 address,
 * so anything else becomes `_`, a `:` included (x2goclient splits the line on ':').
 */
export function x2goHost(host: string): string {
  return host.replace(/[^A-Za-z0-9.-]/g, "_");
}
