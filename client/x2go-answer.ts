/**
 * The parts of the X2Go broker protocol the helper reads and rewrites (pure). It reads the task
 * and profile of a request as the broker does (query, then form body; the last value wins), finds
 * the server a selectsession answer names (`SERVER:<host>:<port>` in /plain/, `selected_session`
 * in /json/), and writes the local port in its place. The broker's pseudo-hosts for "nothing
 * available" pass through untouched, so the client reports them as it would.
 */

export type Frontend = "plain" | "json";

export interface X2goRequest {
  task: string;
  /** The profile a selectsession names (`sid`, or JSON's `profile-id`), "" when none. */
  profileId: string;
}

export interface ServerTarget {
  host: string;
  port: number;
}

/** selectsession's answers when nothing can be selected (src/x2go/broker.ts). */
const PSEUDO_HOSTS = new Set(["no-server-available", "no-X2Go-Server-available"]);

/** The frontend a request path belongs to: `/plain/…` or `/json/…` (with a trailing slash), else null. */
export function frontendOf(path: string): Frontend | null {
  const pathname = path.split("?")[0] ?? "";
  if (pathname.startsWith("/plain/")) return "plain";
  if (pathname.startsWith("/json/")) return "json";
  return null;
}

/** Task and profile of a request (form body of any declared type, as the broker reads it; multipart is not read). */
export function readRequest(frontend: Frontend, query: string, body: Buffer, contentType: string | undefined): X2goRequest {
  const values = new Map<string, string>();
  const entries = [...new URLSearchParams(query).entries()];
  if (!/^multipart\//i.test(contentType ?? "")) entries.push(...new URLSearchParams(body.toString("utf8")).entries());
  for (const [name, value] of entries) values.set(name, value.trim());
  const sid = values.get("sid") ?? "";
  return { task: values.get("task") ?? "", profileId: frontend === "json" && sid === "" ? (values.get("profile-id") ?? "") : sid };
}

const SERVER_LINE = /^SERVER:([^:\n]+):(\d{1,5})$/m;

function jsonAnswer(body: string): Record<string, unknown> | null {
  try {
    const parsed = JSON.parse(body) as unknown;
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function selectedSession(answer: Record<string, unknown> | null): Record<string, unknown> | null {
  const selected = answer?.["selected_session"];
  return selected !== null && typeof selected === "object" && !Array.isArray(selected) ? (selected as Record<string, unknown>) : null;
}

/** The server a selectsession answer names, or null (none, or a pseudo-host). */
export function selectedServer(frontend: Frontend, body: string): ServerTarget | null {
  let host: unknown;
  let port: unknown;
  if (frontend === "plain") {
    const match = SERVER_LINE.exec(body);
    [host, port] = [match?.[1], match?.[2]];
  } else {
    const selected = selectedSession(jsonAnswer(body));
    [host, port] = [selected?.["server"], selected?.["port"]];
  }
  if (typeof host !== "string" || host === "" || PSEUDO_HOSTS.has(host)) return null;
  const number = Number(port);
  return Number.isInteger(number) && number > 0 && number < 65_536 ? { host, port: number } : null;
}

/** The answer with its server replaced by `local` and its cookie by `authid` (the helper's, the broker sends none to it). */
export function rewriteAnswer(frontend: Frontend, body: string, local: ServerTarget | null, authid: string): string {
  if (frontend === "plain") {
    const withCookie = body.replace(/^AUTHID:[^\n]*$/m, `AUTHID:${authid}`);
    return local ? withCookie.replace(SERVER_LINE, `SERVER:${local.host}:${local.port}`) : withCookie;
  }
  const answer = jsonAnswer(body);
  if (!answer) return body;
  if ("next-authid" in answer) answer["next-authid"] = authid;
  const selected = selectedSession(answer);
  if (local && selected) Object.assign(selected, { server: local.host, port: String(local.port) });
  return JSON.stringify(answer, null, 4);
}
