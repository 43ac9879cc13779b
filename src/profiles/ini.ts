/**
 * The INI dialect of X2Go's `x2gobroker-sessionprofiles.conf`: Python's RawConfigParser as
 * x2gobroker uses it. `[section]` headers, `key=value` or `key: value`, whole-line `#`/`;`
 * comments (no inline comments), indented continuation lines, case-sensitive keys, `[DEFAULT]`
 * inherited by every section, and duplicate sections or keys refused. Pure.
 */

/** A problem or a note about the file; `line` is 1-based, `section` the profile id if any. */
export interface ConfIssue {
  line: number;
  section?: string;
  message: string;
}

export interface Entry {
  value: string;
  line: number;
}

export interface Section {
  name: string;
  line: number;
  entries: Map<string, Entry>;
}

/** Splits the file into `[DEFAULT]` and the other sections; malformed lines go to `errors`. */
export function readIni(text: string, errors: ConfIssue[]): { defaults: Map<string, Entry>; sections: Section[] } {
  const defaults = new Map<string, Entry>();
  const sections: Section[] = [];
  let current: { entries: Map<string, Entry>; name?: string } | null = null;
  let last: { entry: Entry; indent: number } | null = null;
  for (const [index, raw] of text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/).entries()) {
    const line = index + 1;
    const trimmed = raw.trim();
    const indent = raw.length - raw.trimStart().length;
    if (trimmed === "") {
      last = null;
      continue;
    }
    if (trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
    if (last && indent > last.indent) {
      last.entry.value += `\n${trimmed}`;
      continue;
    }
    last = null;
    const header = /^\[([^\]]+)\]$/.exec(trimmed);
    if (header) {
      const name = header[1] ?? "";
      if (name === "DEFAULT") current = { entries: defaults };
      else if (sections.some((section) => section.name === name)) {
        errors.push({ line, section: name, message: `duplicate section [${name}]` });
        current = { entries: new Map(), name };
      } else {
        const section = { name, line, entries: new Map<string, Entry>() };
        sections.push(section);
        current = section;
      }
      continue;
    }
    const pair = /^(.*?)\s*[=:]\s*(.*)$/.exec(trimmed);
    const section = current?.name;
    if (!current || !pair || !pair[1]) {
      const message = !current ? "a key before any [section] header" : "not a [section] header or a key=value line";
      errors.push({ line, ...(section ? { section } : {}), message });
      continue;
    }
    const key = pair[1];
    if (current.entries.has(key)) {
      errors.push({ line, ...(section ? { section } : {}), message: `duplicate key ${key}` });
      continue;
    }
    const entry = { value: pair[2] ?? "", line };
    current.entries.set(key, entry);
    last = { entry, indent };
  }
  return { defaults, sections };
}

