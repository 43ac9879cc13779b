/**
 * The parameters of an X2Go broker request, read as tornado reads them for x2gobroker
 * (`XB/web/plain.py` l.117-141): the query string and the body merged, the body read as a form
 * whatever its Content-Type (an x2goclient bug sends others), the last value of a repeated
 * name winning, surrounding whitespace stripped from every value but the password.
 */

/** The parameters both frontends read; absent ones are "". */
export interface X2goParams {
  user: string;
  /** Not stripped: a password may start or end with spaces. */
  password: string;
  /** The one-time cookie of the previous answer; non-empty means cookie authentication. */
  authid: string;
  task: string;
  /** Profile id for selectsession (plain; JSON takes it too and prefers it). */
  sid: string;
  /** Profile id for selectsession (JSON). */
  profileId: string;
}

/** Tornado replaces these control characters by spaces in every argument. */
const CONTROL_CHARS = /[\x00-\x08\x0e-\x1f]/g;

async function bodyEntries(request: Request): Promise<Array<[string, string]>> {
  const contentType = request.headers.get("Content-Type") ?? "";
  if (/^multipart\/form-data/i.test(contentType)) {
    try {
      const form = await request.formData();
      return [...form.entries()].flatMap(([name, value]) => (typeof value === "string" ? [[name, value] as [string, string]] : []));
    } catch {
      return [];
    }
  }
  // Decoded by hand: workerd warns when text() reads a body whose Content-Type is not text.
  return [...new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer())).entries()];
}

/**
 * Reads the request's parameters: query-string entries first, then the body's, so a body value
 * overrides a query value of the same name. Never throws for a malformed body: what does not
 * parse is simply absent.
 */
export async function readX2goParams(request: Request): Promise<X2goParams> {
  const values = new Map<string, string>();
  const entries = [...new URL(request.url).searchParams.entries(), ...(await bodyEntries(request))];
  for (const [name, value] of entries) values.set(name, value.replace(CONTROL_CHARS, " "));
  const get = (name: string) => (values.get(name) ?? "").trim();
  return {
    user: get("user"),
    password: values.get("password") ?? "",
    authid: get("authid"),
    task: get("task"),
    sid: get("sid"),
    profileId: get("profile-id"),
  };
}
